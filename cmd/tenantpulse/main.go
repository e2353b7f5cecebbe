// Command tenantpulse is real-time tenant analytics and churn-risk scoring
// in one binary. This package only parses flags and configuration and wires
// the services in internal/app together; see DESIGN.md for the map.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/tenantpulse/tenantpulse/internal/bench"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `tenantpulse: real-time tenant analytics and churn-risk scoring.

Usage:
  tenantpulse demo [--data ./data] [--tenants 300] [--history 120d]   everything, with a simulated business
  tenantpulse serve [--listen 127.0.0.1:8080] [--data ./data] [--config FILE] [flags]
  tenantpulse archive ls|verify|compact [--data ./data] [flags]
  tenantpulse bench kinesis --endpoint URL [flags]
  tenantpulse simulate [--history 120d] [--tenants 200] [--rate 100] [--via events|kinesis] [flags]
  tenantpulse train --input FILE.csv --out MODEL.json [--model-type linear|binned] [flags]
  tenantpulse train --labels truth.json --data ./data --out MODEL.json [flags]
  tenantpulse version

Run "tenantpulse <command> -h" for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "serve":
		return serveMain(ctx, args[1:], stdout, stderr)
	case "demo":
		return demoMain(ctx, args[1:], stdout, stderr)
	case "archive":
		return archiveMain(ctx, args[1:], stdout, stderr)
	case "bench":
		return bench.Main(ctx, args[1:], stdout, stderr)
	case "simulate":
		return simulateMain(ctx, args[1:], stdout, stderr)
	case "train":
		return trainMain(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "tenantpulse %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "tenantpulse: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
