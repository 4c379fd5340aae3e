// Command podium runs the podium live audio platform. See internal/cli.
package main

import (
	"os"

	"github.com/podium-live/podium/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) }
