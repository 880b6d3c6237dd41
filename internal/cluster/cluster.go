// Package cluster joins os1 nodes through NATS: a user's events published on
// one node reach that user's subscribers on every node (Bridge), a running
// turn can be cancelled from any node (CancelService), and background jobs
// move to a JetStream work queue that survives a node's death (Jobs).
//
// It is opt-in: internal/app wires it when [cluster] nats_url (OS1_NATS_URL)
// is set; without it a single process keeps today's behaviour and no NATS
// code runs. See docs/scale.md, "NATS".
//
// Subjects (a user ID becomes one subject token, see UserToken):
//
//	os1.user.<user>.events   a user's events, core NATS, one per event, published
//	                         only while another node follows the user
//	os1.interest             which node follows which user (Bridge; interest.go),
//	                         acknowledged on the follower's inbox
//	os1.user.<user>.cancel   request/reply: cancel a conversation's turn
//	os1.user.<user>.running  request/reply: does a node run a conversation's turn
//	os1.jobs.<kind>          background jobs, JetStream stream OS1_JOBS
package cluster

import (
	"encoding/base64"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
)

// Connect dials NATS for a node: it reconnects forever, buffers what is
// published while disconnected (up to the client's reconnect buffer) and
// logs connection changes. opts come last, so callers (tests) may override.
func Connect(url, node string, log *slog.Logger, opts ...nats.Option) (*nats.Conn, error) {
	if log == nil {
		log = slog.Default()
	}
	base := []nats.Option{
		nats.Name("os1 " + node),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.RetryOnFailedConnect(false),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn("nats: disconnected", "node", node, "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("nats: reconnected", "node", node, "url", nc.ConnectedUrl())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subj := ""
			if sub != nil {
				subj = sub.Subject
			}
			log.Warn("nats: async error", "node", node, "subject", subj, "err", err)
		}),
	}
	return nats.Connect(url, append(base, opts...)...)
}

// UserToken turns a user ID into one NATS subject token. IDs made only of
// ASCII letters, digits, '-' and '_' are used as they are; anything else
// (dots, wildcards, spaces, non-ASCII) is "~" + base64url, so two users never
// share a subject and no ID can widen a subscription.
func UserToken(userID string) string {
	if userID != "" && plain(userID) {
		return userID
	}
	return "~" + base64.RawURLEncoding.EncodeToString([]byte(userID))
}

func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// EventsSubject is the subject of a user's events.
func EventsSubject(userID string) string { return "os1.user." + UserToken(userID) + ".events" }

// CancelSubject is the request subject to cancel a user's turn.
func CancelSubject(userID string) string { return "os1.user." + UserToken(userID) + ".cancel" }

// RunningSubject is the request subject asking which node runs a turn.
func RunningSubject(userID string) string { return "os1.user." + UserToken(userID) + ".running" }
