package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/accounts/source"
)

func TestFileParsesCleanly(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out, 1000, 3, ""); err != nil {
		t.Fatal(err)
	}
	res, err := source.ParseImportFile(&out, source.ParseOptions{})
	if err != nil || len(res.Records) != 1000 || len(res.Skipped) != 0 {
		t.Fatalf("%d records, skipped %v, %v", len(res.Records), res.Skipped, err)
	}
}

func TestTree(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "clients")
	if err := run(nil, 50, 1, dir); err != nil {
		t.Fatal(err)
	}
	res, err := source.ScanDirectory(context.Background(), dir, true)
	if err != nil || len(res.Records) != 50 {
		t.Fatalf("scan: %d records, %v", len(res.Records), err)
	}
	if err := run(nil, 5, 1, dir); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("reused directory: %v", err)
	}
	if err := run(nil, -1, 1, ""); err == nil {
		t.Fatal("negative -n accepted")
	}
}
