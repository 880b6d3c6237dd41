package cli

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/os1ai/os1/internal/contacts"
)

// `os1 contacts …` works with the signed-in user's contacts on a running
// server (like `os1 calendar`, it needs `os1 login` or a token): the people
// (contacts merged with memory's people), adding one, .vcf import, and a
// CardDAV sync with the calendar accounts' servers.

func (e *env) contactsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "contacts",
		Short: "Your contacts: list, add, import, sync",
		Long: "Your contacts in os1 (on the server you signed in to with `os1 login`), merged with the people she\n" +
			"remembers: list them, add one, import a .vcf file, sync the address books of your calendar accounts.",
	}
	connect := e.connectFlags(cmd)
	cmd.AddCommand(e.contactsListCmd(connect), e.contactsAddCmd(connect), e.contactsImportCmd(connect), e.contactsSyncCmd(connect))
	return cmd
}

func (e *env) contactsListCmd(connect connectFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List your people: names, relation, handles, birthday",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			var out struct {
				People []contacts.Person `json:"people"`
			}
			if err := c.do(cmd.Context(), http.MethodGet, "/api/contacts", nil, &out); err != nil {
				return err
			}
			if len(out.People) == 0 {
				fmt.Fprintln(e.stdout, "No contacts yet: add one with `os1 contacts add` or import a .vcf file with `os1 contacts import`.")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tRELATION\tBIRTHDAY\tHANDLES")
			for _, p := range out.People {
				name := p.Name
				if len(p.OtherNames) > 0 {
					name += " (" + strings.Join(p.OtherNames, ", ") + ")"
				}
				var hs []string
				for _, h := range p.Handles {
					hs = append(hs, h.Value)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, dash(p.Relation), dash(p.Birthday), dash(strings.Join(hs, ", ")))
			}
			return tw.Flush()
		},
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (e *env) contactsAddCmd(connect connectFunc) *cobra.Command {
	var in struct {
		Name       string            `json:"name"`
		OtherNames []string          `json:"other_names,omitempty"`
		Relation   string            `json:"relation,omitempty"`
		Birthday   string            `json:"birthday,omitempty"`
		Handles    []contacts.Handle `json:"handles,omitempty"`
	}
	var emails, phones, addresses []string
	cmd := &cobra.Command{
		Use:   `add "NAME" [--email …] [--phone …] [--birthday YYYY-MM-DD] [--relation sister]`,
		Short: "Add a contact",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.Name = args[0]
			for _, v := range emails {
				in.Handles = append(in.Handles, contacts.Handle{Kind: contacts.Email, Value: v})
			}
			for _, v := range phones {
				in.Handles = append(in.Handles, contacts.Handle{Kind: contacts.Phone, Value: v})
			}
			for _, v := range addresses {
				in.Handles = append(in.Handles, contacts.Handle{Kind: contacts.Address, Value: v})
			}
			if strings.TrimSpace(in.Name) == "" {
				return &exitError{code: 2, err: errors.New("give the contact's name")}
			}
			c, err := connect()
			if err != nil {
				return err
			}
			var out contacts.Contact
			if err := c.do(cmd.Context(), http.MethodPost, "/api/contacts", in, &out); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Added %s (%s).\n", out.Name, out.ID)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&emails, "email", nil, "an email address (repeat for more)")
	f.StringArrayVar(&phones, "phone", nil, "a phone number (repeat for more)")
	f.StringArrayVar(&addresses, "address", nil, "a postal address (repeat for more)")
	f.StringArrayVar(&in.OtherNames, "aka", nil, "another name or nickname (repeat for more)")
	f.StringVar(&in.Relation, "relation", "", `who they are to you: "sister", "friend"…`)
	f.StringVar(&in.Birthday, "birthday", "", "YYYY-MM-DD, or --MM-DD without the year")
	return cmd
}

func (e *env) contactsImportCmd(connect connectFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE.vcf",
		Short: "Import a .vcf file (cards already imported, by UID, are updated)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			c, err := connect()
			if err != nil {
				return err
			}
			var res contacts.ImportResult
			if err := c.do(cmd.Context(), http.MethodPost, "/api/contacts/import", rawBody{Type: "text/vcard", R: f}, &res); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Imported %s, updated %d from %s.\n", countOf(res.Imported, "contact"), res.Updated, filepath.Base(args[0]))
			for _, x := range res.Errors {
				fmt.Fprintf(e.stdout, "  skipped: %s\n", x)
			}
			return nil
		},
	}
}

func (e *env) contactsSyncCmd(connect connectFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "sync",
		Short: "Sync your contacts with the address books of your calendar accounts (CardDAV) now",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			var rep contacts.Report
			if err := c.do(cmd.Context(), http.MethodPost, "/api/contacts/sync", nil, &rep); err != nil {
				return err
			}
			if rep.Accounts == 0 {
				fmt.Fprintln(e.stdout, "No account to sync: connect one with `os1 calendar add` (its server's address books sync too).")
				return nil
			}
			fmt.Fprintf(e.stdout, "Synced %d address books in %d accounts: %d in, %d out, %d deleted.\n", rep.Books, rep.Accounts, rep.Pulled, rep.Pushed, rep.Deleted)
			for _, x := range rep.Conflicts {
				fmt.Fprintf(e.stdout, "  conflict: %s\n", x)
			}
			for _, x := range rep.Errors {
				fmt.Fprintf(e.stdout, "  failed: %s\n", x)
			}
			if len(rep.Errors) > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d errors in the sync", len(rep.Errors))}
			}
			return nil
		},
	}
}
