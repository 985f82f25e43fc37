package source

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// subAccountsPerClient is how many sub-accounts (matters, projects) each
// generated client has, besides its own line.
const subAccountsPerClient = 4

// WriteSampleImportFile writes n account lines in the batch import format,
// as a law or engineering firm's export would look: clients, each followed
// by its matters, with a mix of filled and blank fields. Every line is
// valid and every name and PIN unique, so parsing it skips nothing. The
// same seed gives the same file. It feeds benchmarks and load tests.
func WriteSampleImportFile(w io.Writer, n int, seed int64) error {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, "# Ream sample account import, %d accounts, seed %d\n", n, seed)
	invoice := []string{"ALWAYS_INVOICE", "NEVER_INVOICE", "USER_CHOICE_ON", "user_choice_off"}
	comment := []string{"NO_COMMENT", "COMMENT_OPTIONAL", "COMMENT_REQUIRED"}
	yesNo := []string{"Y", "N", "y", ""}
	var buf []byte
	client := 0
	for i := range n {
		sub := i % (subAccountsPerClient + 1)
		if sub == 0 {
			client++
		}
		buf = buf[:0]
		buf = append(buf, "Client "...)
		buf = strconv.AppendInt(buf, int64(client), 10)
		buf = append(buf, '\t')
		if sub > 0 {
			buf = append(buf, "Matter "...)
			buf = strconv.AppendInt(buf, int64(client), 10)
			buf = append(buf, '-')
			buf = strconv.AppendInt(buf, int64(sub), 10)
		}
		buf = append(buf, '\t')
		buf = append(buf, yesNo[rng.IntN(len(yesNo))]...)
		buf = append(buf, '\t')
		if rng.IntN(3) == 0 {
			buf = strconv.AppendInt(buf, int64(100000+i), 10)
		}
		buf = append(buf, '\t')
		if rng.IntN(2) == 0 {
			buf = strconv.AppendInt(buf, int64(rng.IntN(100000)), 10)
			buf = append(buf, '.')
			buf = strconv.AppendInt(buf, int64(rng.IntN(90)+10), 10)
		}
		buf = append(buf, '\t')
		buf = append(buf, yesNo[rng.IntN(len(yesNo))]...)
		buf = append(buf, '\t')
		switch rng.IntN(4) {
		case 0:
			buf = append(buf, "alice|bob|user"...)
			buf = strconv.AppendInt(buf, int64(rng.IntN(5000)), 10)
		case 1:
			buf = append(buf, '-')
		}
		buf = append(buf, '\t')
		switch rng.IntN(4) {
		case 0:
			buf = append(buf, "Staff|Partners"...)
		case 1:
			buf = append(buf, "[All Users]"...)
		}
		// Leave the last fields off on some lines, as exports often do.
		if rng.IntN(3) > 0 {
			buf = append(buf, '\t')
			buf = append(buf, invoice[rng.IntN(len(invoice))]...)
			buf = append(buf, '\t')
			buf = append(buf, comment[rng.IntN(len(comment))]...)
			buf = append(buf, "\tOpened by the sample generator; account "...)
			buf = strconv.AppendInt(buf, int64(i+1), 10)
		}
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("source: unable to write the sample import file: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("source: unable to write the sample import file: %w", err)
	}
	return nil
}

// MakeSampleTree creates n account directories under root for a directory
// scan: clients each holding their matters as sub-directories, plus a file
// and a hidden directory per client that a scan must ignore.
func MakeSampleTree(root string, n int) error {
	client := ""
	for i := range n {
		var dir string
		if i%(subAccountsPerClient+1) == 0 {
			client = filepath.Join(root, "Client "+strconv.Itoa(i))
			dir = client
		} else {
			dir = filepath.Join(client, "Matter "+strconv.Itoa(i))
		}
		if err := os.Mkdir(dir, 0o755); err != nil {
			return fmt.Errorf("source: unable to make the sample tree: %w", err)
		}
		if dir == client {
			if err := os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644); err != nil {
				return fmt.Errorf("source: unable to make the sample tree: %w", err)
			}
			if err := os.Mkdir(filepath.Join(dir, ".hidden"), 0o755); err != nil {
				return fmt.Errorf("source: unable to make the sample tree: %w", err)
			}
		}
	}
	return nil
}
