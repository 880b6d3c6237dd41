package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
)

// Canceller stops a running turn; companion.Companion's Cancel satisfies it.
// It reports whether a turn was running in the conversation.
type Canceller interface {
	Cancel(ctx context.Context, userID, conversationID string) (bool, error)
}

type cancelRequest struct {
	UserID         string `json:"user_id"`
	ConversationID string `json:"conversation_id"`
}

type cancelReply struct {
	Cancelled bool `json:"cancelled"`
}

// CancelService lets any node cancel (or barge in on) a turn that runs on
// another node. It is itself a Canceller: Cancel tries this node first, then
// asks the others over os1.user.<user>.cancel. A node answers only when it
// did stop a turn, so the first answer is the one that matters; when no node
// answers within Wait, no turn was running anywhere.
type CancelService struct {
	nc    *nats.Conn
	local Canceller
	wait  time.Duration
	log   *slog.Logger
	sub   *nats.Subscription
}

// NewCancelService answers other nodes' cancel requests with local and
// returns the service. wait bounds a remote cancel (default 1s).
func NewCancelService(nc *nats.Conn, local Canceller, wait time.Duration, log *slog.Logger) (*CancelService, error) {
	if wait <= 0 {
		wait = time.Second
	}
	if log == nil {
		log = slog.Default()
	}
	s := &CancelService{nc: nc, local: local, wait: wait, log: log}
	sub, err := nc.Subscribe("os1.user.*.cancel", s.serve)
	if err != nil {
		return nil, err
	}
	s.sub = sub
	if nc.IsConnected() {
		if err := nc.FlushTimeout(wait); err != nil {
			log.Warn("cluster: cancel service not confirmed", "err", err)
		}
	}
	return s, nil
}

var _ Canceller = (*CancelService)(nil)

func (s *CancelService) serve(m *nats.Msg) {
	var req cancelRequest
	if err := json.Unmarshal(m.Data, &req); err != nil || req.UserID == "" || req.ConversationID == "" {
		return
	}
	// The subject names the user: a request for one user never reaches
	// another user's conversation, whatever its body says.
	if m.Subject != CancelSubject(req.UserID) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.wait)
	defer cancel()
	ok, err := s.local.Cancel(ctx, req.UserID, req.ConversationID)
	if err != nil || !ok {
		return // someone else may be running it; silence is "not here"
	}
	data, _ := json.Marshal(cancelReply{Cancelled: true})
	if err := m.Respond(data); err != nil {
		s.log.Warn("cluster: cancel reply lost", "err", err)
	}
}

// Cancel stops the conversation's turn on whichever node runs it. An error
// from this node (the conversation does not exist for that user) is returned
// without asking the others. When NATS is unreachable it reports false with
// the error.
func (s *CancelService) Cancel(ctx context.Context, userID, conversationID string) (bool, error) {
	ok, err := s.local.Cancel(ctx, userID, conversationID)
	if err != nil || ok {
		return ok, err
	}
	data, err := json.Marshal(cancelRequest{UserID: userID, ConversationID: conversationID})
	if err != nil {
		return false, err
	}
	rctx, cancel := context.WithTimeout(ctx, s.wait)
	defer cancel()
	m, err := s.nc.RequestWithContext(rctx, CancelSubject(userID), data)
	switch {
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return false, nil // nobody was running it
	case errors.Is(err, nats.ErrNoResponders):
		return false, nil
	case err != nil:
		return false, err
	}
	var rep cancelReply
	if err := json.Unmarshal(m.Data, &rep); err != nil {
		return false, err
	}
	return rep.Cancelled, nil
}

// Close stops answering other nodes.
func (s *CancelService) Close() { _ = s.sub.Unsubscribe() }
