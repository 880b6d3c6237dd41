package app

import (
	"context"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"

	"github.com/os1ai/os1/internal/webpush"
	"github.com/os1ai/os1/internal/webpush/sqlitewebpush"
)

// newPush builds the Web Push notifier: subscriptions in the database, the
// VAPID key made once and sealed with secret.key. A key that no longer
// opens (secret.key was replaced) leaves push off with a warning rather
// than stopping os1; the rest works without it.
func (a *App) newPush(ctx context.Context, log *slog.Logger) *webpush.Notifier {
	st := sqlitewebpush.New(a.DB)
	v, err := webpush.LoadVAPID(ctx, st, a.Secrets)
	if err != nil {
		log.Warn("push notifications are off", "err", err)
		return nil
	}
	return &webpush.Notifier{Store: st, VAPID: v, Subject: pushSubject(a.Config.BaseURL()), Clock: a.Clock,
		Log: log.With("component", "push")}
}

// pushSubject is the contact push services get (RFC 8292 "sub"): the
// server's https URL, or a mailto: of its host when it has none (push
// services want one of the two).
func pushSubject(base string) string {
	u, err := url.Parse(base)
	if err == nil && u.Scheme == "https" && u.Host != "" {
		return u.Scheme + "://" + u.Host
	}
	host := "localhost"
	if err == nil && strings.Contains(u.Hostname(), ".") {
		if _, ipErr := netip.ParseAddr(u.Hostname()); ipErr != nil { // a name, not an address
			host = u.Hostname()
		}
	}
	return "mailto:os1@" + host
}
