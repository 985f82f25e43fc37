// Command ream-accountgen writes inputs for shared account sync benchmarks
// and trials: a batch account import file, or a directory tree to scan.
//
//	ream-accountgen -n 100000 > accounts.txt
//	ream-accountgen -n 100000 -tree /srv/clients
//
// The file has clients each followed by four matters, with a mix of filled
// and blank fields, every line valid and every name and PIN unique; the
// same -seed gives the same file. The tree has the same clients and
// matters as directories (with a file and a hidden directory per client,
// which a scan ignores).
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/reamprint/ream/internal/accounts/source"
)

func main() {
	n := flag.Int("n", 1000, "number of accounts (clients and matters together)")
	seed := flag.Int64("seed", 1, "seed of the file's random fields")
	tree := flag.String("tree", "", "make a directory tree under this (new or empty) directory instead of writing a file")
	flag.Parse()
	if err := run(os.Stdout, *n, *seed, *tree); err != nil {
		fmt.Fprintln(os.Stderr, "ream-accountgen:", err)
		os.Exit(1)
	}
}

func run(stdout io.Writer, n int, seed int64, tree string) error {
	if n < 0 {
		return errors.New("-n must not be negative")
	}
	if tree != "" {
		if err := os.MkdirAll(tree, 0o755); err != nil {
			return err
		}
		entries, err := os.ReadDir(tree)
		if err != nil {
			return err
		}
		if len(entries) > 0 {
			return fmt.Errorf("%s is not empty; give a new or empty directory", tree)
		}
		return source.MakeSampleTree(tree, n)
	}
	w := bufio.NewWriterSize(stdout, 1<<16)
	if err := source.WriteSampleImportFile(w, n, seed); err != nil {
		return err
	}
	return w.Flush()
}
