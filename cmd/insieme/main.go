// Command insieme serves the Insieme platform and runs its administrative tasks.
//
//	insieme [serve]                                  serve the app (the default)
//	insieme admin create --email E --password-stdin  create (or promote) an administrator
//	insieme devdb [--addr A] [--postgresql URL]      run the embedded store on its own
//	insieme backup [--out FILE]                      dump every collection as JSON lines
//	insieme restore [--in FILE]                      load a backup into an empty store
//	insieme seed --demo [--force]                    fill an empty store with demo data
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "insieme:", err)
		os.Exit(1)
	}
}

// run is the whole program, callable from tests with their own arguments, environment and
// streams. It returns when ctx ends (serve, devdb) or the task is done.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "admin":
		return admin(ctx, args, getenv, stdin, stdout, stderr)
	case "devdb":
		return devdb(ctx, args, getenv, stdout, stderr)
	case "backup":
		return backup(ctx, args, getenv, stdout, stderr)
	case "restore":
		return restore(ctx, args, getenv, stdin, stdout, stderr)
	case "seed":
		return seed(ctx, args, getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

const usage = `usage:
  insieme [serve]                                      serve the app
  insieme admin create --email E --password-stdin [--name N]
  insieme devdb [--addr 127.0.0.1:27017] [--postgresql URL]
  insieme backup [--out FILE]
  insieme restore [--in FILE]
  insieme seed --demo [--force]                        fill an empty store with demo forums
Settings come from environment variables: see config/insieme.example.env.
`
