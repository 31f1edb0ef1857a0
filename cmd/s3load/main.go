// Command s3load loads folders of CSV, JSON and Parquet files from an S3
// bucket into Parquet tables. See the README for the config file.
package main

import (
	"context"
	"os"

	"github.com/s3load/s3load/internal/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
