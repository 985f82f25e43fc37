// Command ream is the Ream print-management account server.
package main

import (
	"os"

	"github.com/reamprint/ream/internal/server"
)

func main() {
	os.Exit(server.Main(server.CommandLine(os.Args), server.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ()}))
}
