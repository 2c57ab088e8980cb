package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/embedded"
	"github.com/insieme/insieme/internal/insieme"
)

// admin create makes the first administrator; the password comes on standard input so it
// never shows in the process list or the shell history.
func admin(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: insieme admin create --email E --password-stdin [--name N]")
	}
	fs := flag.NewFlagSet("admin create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the administrator's email")
	name := fs.String("name", "Admin", "the display name")
	pwStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *email == "" || !*pwStdin {
		return errors.New("usage: insieme admin create --email E --password-stdin [--name N]")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading the password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	cfg, log, st, err := openTask(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer st.close(ctx)
	a := app.New(app.Deps{Store: st.db, Logger: log, BaseURL: cfg.BaseURL})
	u, created, err := a.CreateAdmin(ctx, *email, password, *name)
	if err != nil {
		return describe(err)
	}
	if created {
		fmt.Fprintf(stdout, "created administrator %s (%s)\n", u.Email, u.ID)
	} else {
		fmt.Fprintf(stdout, "%s is now an administrator (password unchanged)\n", u.Email)
	}
	return nil
}

// devdb runs the embedded store on its own so several nodes can share it.
func devdb(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("devdb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:27017", "listen address")
	pg := fs.String("postgresql", "", "a PostgreSQL URL: use FerretDB's PostgreSQL backend instead of SQLite")
	dir := fs.String("data-dir", "", "the SQLite folder (default: $INSIEME_DATA_DIR/devdb)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	if *dir == "" {
		*dir = cfg.DataDir + "/devdb"
	}
	log := newLogger(cfg, stderr)
	e, err := embedded.Start(ctx, embedded.Options{DataDir: *dir, PostgreSQLURL: *pg, Addr: *addr, Logger: quietFerret(log)})
	if err != nil {
		return err
	}
	// Nodes sharing this store see from its buildInfo that it is FerretDB, and each write
	// through one connection (see DESIGN.md).
	fmt.Fprintf(stdout, "MONGODB_URI=%s\n", strings.TrimSuffix(e.URI(), "/")+"/")
	if f, ok := stdout.(*os.File); ok {
		_ = f.Sync()
	}
	<-ctx.Done()
	log.Info("devdb stopping")
	return e.Close()
}

// backup writes every collection as JSON lines to --out or standard output.
func backup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "the file to write (default: standard output)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, log, st, err := openTask(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer st.close(ctx)
	w := stdout
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	n, err := st.db.Backup(ctx, w)
	if err != nil {
		return err
	}
	log.Info("backup written", "documents", n)
	return nil
}

// restore loads a backup from --in or standard input into an empty store.
func restore(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "the backup file (default: standard input)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, _, st, err := openTask(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer st.close(ctx)
	r := stdin
	if *in != "" {
		f, err := os.Open(*in)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	n, err := st.db.Restore(ctx, r)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %d documents\n", n)
	return nil
}

// describe turns a validation error into a message for the command line.
func describe(err error) error {
	var e *insieme.Error
	if !errors.As(err, &e) {
		return err
	}
	msg := e.Message
	for field, code := range e.Fields {
		msg += fmt.Sprintf(" %s: %s", field, code)
		if n, ok := e.Limits[field]; ok {
			msg += fmt.Sprintf(" (limit %d)", n)
		}
		msg += "."
	}
	return errors.New(msg)
}
