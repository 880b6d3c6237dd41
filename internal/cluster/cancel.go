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

// Runner says whether a conversation's turn runs on this node;
// companion.Companion's Running satisfies it. A CancelService whose local
// Canceller is also a Runner answers the other nodes' Running questions.
type Runner interface {
	Running(conversationID string) bool
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
	run   *nats.Subscription // os1.user.*.running, when local is a Runner
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
	if r, ok := local.(Runner); ok {
		if s.run, err = nc.Subscribe("os1.user.*.running", func(m *nats.Msg) { s.serveRunning(m, r) }); err != nil {
			_ = sub.Unsubscribe()
			return nil, err
		}
	}
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
	return s.Remote(ctx, userID, conversationID)
}

// Remote asks the other nodes (not this one) to stop the conversation's
// turn: the companion calls it when no turn of that conversation runs
// here. The caller has checked that the conversation is the user's.
func (s *CancelService) Remote(ctx context.Context, userID, conversationID string) (bool, error) {
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

// serveRunning answers "is this conversation's turn running here?" only
// when it is: silence is "not here", as for cancel.
func (s *CancelService) serveRunning(m *nats.Msg, r Runner) {
	var req cancelRequest
	if err := json.Unmarshal(m.Data, &req); err != nil || req.UserID == "" || req.ConversationID == "" {
		return
	}
	if m.Subject != RunningSubject(req.UserID) || !r.Running(req.ConversationID) {
		return
	}
	if err := m.Respond([]byte(`{"running":true}`)); err != nil {
		s.log.Warn("cluster: running reply lost", "err", err)
	}
}

// RunningElsewhere reports whether another node runs a turn in the
// conversation: one answers within the wait. An error means NATS could not
// be asked (then nobody knows; a sweep must not act on it).
func (s *CancelService) RunningElsewhere(ctx context.Context, userID, conversationID string) (bool, error) {
	data, err := json.Marshal(cancelRequest{UserID: userID, ConversationID: conversationID})
	if err != nil {
		return false, err
	}
	rctx, cancel := context.WithTimeout(ctx, s.wait)
	defer cancel()
	_, err = s.nc.RequestWithContext(rctx, RunningSubject(userID), data)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return false, nil
	case errors.Is(err, nats.ErrNoResponders):
		return false, nil
	default:
		return false, err
	}
}

// Close stops answering other nodes.
func (s *CancelService) Close() {
	_ = s.sub.Unsubscribe()
	if s.run != nil {
		_ = s.run.Unsubscribe()
	}
}
