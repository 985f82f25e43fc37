package commands

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/money"
	"github.com/reamprint/ream/internal/xmlrpc"
)

// RunCLI runs `ream server-command verb args…` and returns the exit status:
// 0 success, 1 anything failed (an unknown verb, a bad argument, the
// command itself), with the message on stderr, as PaperCut's
// server-command does, so that `set -e` scripts stop. A list verb given no
// offset/limit lists everything, streamed one name per line.
func RunCLI(ctx context.Context, t *Table, env Env, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if cmd, ok := t.ByCLIName(args[1]); ok {
				fmt.Fprintf(stdout, "usage: ream server-command %s\n  %s\n", cmd.Usage(true), cmd.Help)
				return 0
			}
			fmt.Fprintf(stderr, "ream server-command: unknown command %q (ream server-command help lists them)\n", args[1])
			return 1
		}
		if len(args) == 0 {
			printCLIHelp(t, stderr)
			return 1
		}
		printCLIHelp(t, stdout)
		return 0
	}
	cmd, ok := t.ByCLIName(args[0])
	if !ok {
		fmt.Fprintf(stderr, "ream server-command: unknown command %q (ream server-command help lists them)\n", args[0])
		return 1
	}
	a, err := convertCLIArgs(cmd, args[1:])
	if err != nil {
		return cliFailed(stderr, cmd, err)
	}
	env.Actor = core.CLI
	env.FromAPI = false
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	if cmd.List != nil {
		err = streamList(ctx, cmd, &env, a, out)
	} else {
		var result any
		result, err = runCommand(ctx, cmd, &env, a)
		if err == nil {
			printCLIValue(out, result)
		}
	}
	if err == nil {
		err = out.Flush()
	}
	if err != nil {
		out.Flush()
		return cliFailed(stderr, cmd, err)
	}
	return 0
}

func cliFailed(stderr io.Writer, cmd *Command, err error) int {
	if e, ok := core.AsError(err); ok {
		fmt.Fprintf(stderr, "ream server-command %s: %s\n", cmd.CLIName, e.Msg)
	} else {
		fmt.Fprintf(stderr, "ream server-command %s: %v\n", cmd.CLIName, err)
	}
	return 1
}

// streamList runs a list verb, writing each name as it is read.
func streamList(ctx context.Context, cmd *Command, env *Env, a Args, w io.Writer) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("commands: %s panicked: %v", cmd.Name, p)
		}
	}()
	off, lim, err := listRange(env, a, cmd.ListAt)
	if err != nil {
		return err
	}
	return cmd.List(ctx, env, a, off, lim, func(name string) error {
		_, err := io.WriteString(w, name+"\n")
		return err
	})
}

func printCLIHelp(t *Table, w io.Writer) {
	fmt.Fprintln(w, "usage: ream server-command <command> [arguments…]")
	fmt.Fprintln(w, "\nCommands (PaperCut's names; the same table serves the XML-RPC API):")
	cmds := t.Commands()
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].CLIName < cmds[j].CLIName })
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-60s %s\n", c.Usage(true), c.Help)
	}
}

func convertCLIArgs(cmd *Command, args []string) (Args, error) {
	if err := cmd.checkArity(len(args), true); err != nil {
		return Args{}, err
	}
	vals := make([]any, min(len(args), len(cmd.Params)))
	for i, s := range args {
		if i >= len(vals) {
			break
		}
		p := cmd.Params[i]
		switch p.Kind {
		case Words:
			vals[i] = append([]string(nil), args[i:]...)
		case String:
			vals[i] = s
		case Int:
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return Args{}, fmt.Errorf("argument %q (%s): %q is not a whole number", p.Name, p.Kind, s)
			}
			vals[i] = n
		case Bool:
			b, err := core.ParseBool(s)
			if err != nil {
				return Args{}, fmt.Errorf("argument %q: %v", p.Name, err)
			}
			vals[i] = b
		case Amount:
			a, err := money.Parse(s)
			if err != nil {
				return Args{}, fmt.Errorf("argument %q: %q is not a decimal number (%v)", p.Name, s, err)
			}
			vals[i] = a
		case StringList:
			var list []string
			for _, item := range strings.Split(s, ",") {
				if item = strings.TrimSpace(item); item != "" {
					list = append(list, item)
				}
			}
			vals[i] = list
		case Pairs:
			var pairs [][2]string
			for _, word := range strings.Split(s, ",") {
				name, value, ok := strings.Cut(word, "=")
				if !ok {
					return Args{}, fmt.Errorf("argument %q: %q is not name=value", p.Name, word)
				}
				pairs = append(pairs, [2]string{strings.TrimSpace(name), value})
			}
			vals[i] = pairs
		}
	}
	return Args{cmd: cmd, values: vals}, nil
}

func printCLIValue(w io.Writer, v any) {
	switch x := v.(type) {
	case []string:
		for _, s := range x {
			fmt.Fprintln(w, s)
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "%s: %v\n", k, x[k])
		}
	case xmlrpc.Struct:
		for _, m := range x {
			fmt.Fprintf(w, "%s: %v\n", m.Name, m.Value)
		}
	case nil:
	default:
		fmt.Fprintln(w, x)
	}
}
