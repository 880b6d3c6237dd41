// Command os1 is a self-hosted AI companion: `os1 serve` runs it, `os1 chat`
// talks to it from a terminal, `os1 doctor` says what to fix.
package main

import (
	"os"

	_ "time/tzdata" // user time zones work on machines without a zoneinfo database

	"github.com/os1ai/os1/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}
