// Command kms-local serves local-kms (github.com/nsmithuk/local-kms) in-process
// on 127.0.0.1 only, for tests and local development.
//
// The upstream binary binds 0.0.0.0 and is configured through environment
// variables; this wrapper binds loopback, takes flags, and closes its leveldb
// database on SIGTERM/SIGINT so a data directory can be reopened right away.
//
//	kms-local -port 4599 -data .orgauth/kms [-region us-east-1] [-account 111122223333]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/nsmithuk/local-kms/src/config"
	"github.com/nsmithuk/local-kms/src/data"
	"github.com/nsmithuk/local-kms/src/handler"
	"github.com/sirupsen/logrus"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("kms-local: ")
	if err := run(); err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

func run() error {
	port := flag.Int("port", 0, "TCP port to listen on at 127.0.0.1 (required)")
	dataDir := flag.String("data", "", "directory of the persistent leveldb database (required)")
	region := flag.String("region", "us-east-1", "AWS region used in key ARNs")
	account := flag.String("account", "111122223333", "AWS account id used in key ARNs")
	verbose := flag.Bool("v", false, "log every KMS operation (local-kms info level)")
	flag.Parse()
	if flag.NArg() != 0 {
		return fmt.Errorf("unexpected arguments: %q", flag.Args())
	}
	if *port <= 0 || *port > 65535 {
		return errors.New("-port is required (1-65535)")
	}
	if *dataDir == "" {
		return errors.New("-data is required")
	}
	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}

	// local-kms reads these package globals when it builds ARNs.
	config.AWSRegion = *region
	config.AWSAccountId = *account
	config.DatabasePath = dir

	// Bind before opening the database so a busy port fails with an error
	// rather than after the database is locked.
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		return err
	}

	db, err := openDatabase(dir)
	if err != nil {
		ln.Close()
		return err
	}
	defer db.Close()

	kmsLog := logrus.New()
	kmsLog.SetOutput(os.Stderr)
	kmsLog.SetLevel(logrus.WarnLevel)
	if *verbose {
		kmsLog.SetLevel(logrus.InfoLevel)
	}
	srv := &http.Server{
		Handler:           &kmsHandler{db: db, log: kmsLog},
		ReadHeaderTimeout: 10 * time.Second,
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Printf("listening on %s (region %s, account %s, data %s)", ln.Addr(), *region, *account, dir)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Print("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	return nil
}

// kmsHandler does what local-kms's src.HandleRequest does, but with our own
// logger: upstream logs every operation at info level through a package
// logger that cannot be configured from outside.
type kmsHandler struct {
	db  *data.Database
	log *logrus.Logger
}

func (h *kmsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path != "/":
		http.Error(w, "Page not found", http.StatusNotFound)
		return
	case r.Method != http.MethodPost:
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	case !strings.Contains(r.Header.Get("Content-Type"), "json"):
		http.Error(w, "Only JSON based content types accepted", http.StatusUnsupportedMediaType)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")

	// X-Amz-Target is "TrentService.<Operation>"; upstream dispatches to the
	// RequestHandler method of that name by reflection.
	_, op, ok := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	if ok && op != "" {
		m := reflect.ValueOf(handler.NewRequestHandler(r, h.log, h.db)).MethodByName(op)
		if m.IsValid() && m.Type().NumIn() == 0 && m.Type().NumOut() == 1 {
			if resp, ok := m.Call(nil)[0].Interface().(handler.Response); ok {
				w.WriteHeader(resp.Code)
				fmt.Fprint(w, resp.Body)
				return
			}
		}
	}
	w.WriteHeader(http.StatusNotImplemented)
	fmt.Fprintf(w, "Passed X-Amz-Target (%s) is not implemented", r.Header.Get("X-Amz-Target"))
}

// openDatabase wraps data.NewDatabase, which panics when leveldb cannot open
// the directory (for example when another process holds its lock).
func openDatabase(dir string) (db *data.Database, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("open database %s: %v", dir, r)
		}
	}()
	return data.NewDatabase(dir), nil
}
