// Package initgc holds garbage collection off while the program's packages
// initialize, and gives it back when main starts (Release).
//
// Why: iceberg-go's table/substrait package parses its function
// definitions when it initializes: 32 MB of short-lived allocations that
// took 90–130 ms of one core with collection on, 45–75 ms of that
// collecting, before every s3load command. Go initializes packages in
// import-path order among those whose imports are done, so this one
// (importing only runtime/debug) runs first; should that change, nothing
// breaks, the saving goes (TestInitGCRunsFirst in internal/cli says so).
package initgc

import "runtime/debug"

// percent is GOGC as the runtime read it: the one package variable here,
// since it must be set before main runs.
var percent = debug.SetGCPercent(-1)

// Release turns garbage collection back on, as GOGC says. main calls it
// before anything else.
func Release() { debug.SetGCPercent(percent) }
