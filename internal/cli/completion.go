package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// cmdCompletion is `s3load completion bash|zsh|fish`: a completion script
// for the commands and their flags, made from the commands' own flag sets
// so it cannot drift from them.
func cmdCompletion(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("completion", flag.ContinueOnError)
	fs.SetOutput(stderr)
	setUsage(fs)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageErr(err)
	}
	if fs.NArg() != 1 {
		return usageErr(fmt.Errorf("name one shell: bash, zsh or fish"))
	}
	cmds := completionCommands()
	switch fs.Arg(0) {
	case "bash":
		writeBash(stdout, cmds, false)
	case "zsh":
		writeBash(stdout, cmds, true)
	case "fish":
		writeFish(stdout, cmds)
	default:
		return usageErr(fmt.Errorf("unknown shell %q: bash, zsh or fish", fs.Arg(0)))
	}
	return nil
}

type completionCommand struct {
	name, summary string
	flags         []flagInfo
}

func completionCommands() []completionCommand {
	var out []completionCommand
	for _, h := range helps() {
		out = append(out, completionCommand{name: h.name, summary: h.short, flags: commandFlags(h.name)})
	}
	return out
}

// writeBash writes a bash completion function; zsh runs the same one
// through bashcompinit. A flag that takes a value completes file names.
func writeBash(w io.Writer, cmds []completionCommand, zsh bool) {
	if zsh {
		fmt.Fprintln(w, "#compdef s3load\nautoload -U +X bashcompinit && bashcompinit")
	}
	var names []string
	for _, c := range cmds {
		names = append(names, c.name)
	}
	fmt.Fprintf(w, `_s3load() {
	local cur prev flags valued
	cur="${COMP_WORDS[COMP_CWORD]}"
	prev="${COMP_WORDS[COMP_CWORD-1]}"
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W %q -- "$cur"))
		return
	fi
	case "${COMP_WORDS[1]}" in
`, strings.Join(names, " "))
	for _, c := range cmds {
		var all, valued []string
		for _, f := range c.flags {
			all = append(all, "--"+f.name)
			if f.value {
				valued = append(valued, "--"+f.name)
			}
		}
		fmt.Fprintf(w, "\t%s) flags=%q; valued=%q ;;\n", c.name, strings.Join(all, " "), " "+strings.Join(valued, " ")+" ")
	}
	fmt.Fprint(w, `	*) return ;;
	esac
	if [[ "$valued" == *" $prev "* ]]; then
		COMPREPLY=($(compgen -f -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -W "$flags" -- "$cur"))
}
complete -o default -F _s3load s3load
`)
}

func writeFish(w io.Writer, cmds []completionCommand) {
	var names []string
	for _, c := range cmds {
		names = append(names, c.name)
	}
	fmt.Fprintln(w, "complete -c s3load -f")
	for _, c := range cmds {
		fmt.Fprintf(w, "complete -c s3load -n __fish_use_subcommand -a %s -d %s\n", c.name, fishQuote(c.summary))
		for _, f := range c.flags {
			req := ""
			if f.value {
				req = " -r -F"
			}
			fmt.Fprintf(w, "complete -c s3load -n '__fish_seen_subcommand_from %s' -l %s%s\n", c.name, f.name, req)
		}
	}
}

func fishQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }
