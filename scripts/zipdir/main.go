// Command zipdir writes a folder into a ZIP keeping each file's Unix mode
// (the exec bits of the programs), for `make dist` on machines without the
// zip tool. Entries are sorted and stamped with one time, so the same tree
// gives the same archive.
//
//	go run ./scripts/zipdir -o dist/x.zip build-dir
package main

import (
	"archive/zip"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

func main() {
	out := flag.String("o", "", "the ZIP to write")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "Usage: zipdir -o out.zip DIR")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := write(*out, flag.Arg(0), time.Now()); err != nil {
		fmt.Fprintln(os.Stderr, "zipdir:", err)
		os.Exit(1)
	}
}

// write stores every file and folder under dir (dir itself not included:
// the archive unpacks into the folder it is extracted in).
func write(out, dir string, stamp time.Time) (err error) {
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("create %s: %w", out, err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close %s: %w", out, cerr)
		}
	}()
	zw := zip.NewWriter(f)
	// WalkDir visits in lexical order: a stable archive.
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() && !info.IsDir() {
			return fmt.Errorf("%s: only files and folders go into the archive", rel)
		}
		h, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		h.Modified = stamp
		if info.IsDir() {
			h.Name += "/"
			h.Method = zip.Store
		} else {
			h.Method = zip.Deflate
		}
		w, err := zw.CreateHeader(h)
		if err != nil || info.IsDir() {
			return err
		}
		src, err := os.Open(path)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(w, src)
		return err
	})
	if err != nil {
		return fmt.Errorf("add %s: %w", dir, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("finish %s: %w", out, err)
	}
	return nil
}
