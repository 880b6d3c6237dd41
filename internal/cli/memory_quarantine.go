package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/os1ai/os1/internal/memory"
)

// memRetryCmd is `os1 memory retry ID`: it takes a record (a conversation,
// or the user's journal by user ID) out of the quarantine memory's worker
// put it in after repeated panics; the next `os1 serve` tries it again.
// Without an ID it lists the user's quarantined records.
func (e *env) memRetryCmd(username *string) *cobra.Command {
	return &cobra.Command{
		Use:   "retry [ID]",
		Short: "List records memory skips after repeated errors, or release one to be tried again",
		Long: "Memory's background work skips a conversation (or a user's journal) that crashed it three times;\n" +
			"`os1 doctor` lists them all. Without ID, this lists the user's; with ID (a conversation ID, or\n" +
			"the user's ID for the journal) it releases that record, and the next `os1 serve` tries it again.\n" +
			"While a server runs, release it on the memory page instead (it retries at once).",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if len(args) == 0 {
				m, err := e.openMemory(ctx, *username)
				if err != nil {
					return err
				}
				defer m.close()
				q, err := memory.Quarantined(ctx, m.mem.Progress(), m.user.ID)
				if err != nil {
					return err
				}
				if len(q) == 0 {
					fmt.Fprintf(e.stdout, "Nothing of %s's is skipped.\n", m.user.Username)
					return nil
				}
				for _, f := range q {
					fmt.Fprintf(e.stdout, "%s\t%s\t%d panics, last %s: %s\n", f.ID, f.Kind, f.Count, f.At.Local().Format(time.DateTime), f.Error)
				}
				return nil
			}
			m, err := e.openMemoryToWrite(ctx, *username, "os1 memory retry")
			if err != nil {
				return err
			}
			defer m.close()
			f, err := memory.Release(ctx, m.mem.Progress(), m.user.ID, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Released %s %s; the next `os1 serve` tries it again.\n", f.Kind, f.ID)
			return nil
		},
	}
}
