package llm

import (
	"context"
	"fmt"
	"iter"
)

// fallback answers from secondary when primary fails before saying anything.
type fallback struct {
	primary, secondary Provider
}

var _ ModelLister = (*fallback)(nil)

// NewFallback returns a provider that streams from primary and, when primary
// fails before yielding any event, streams the same request from secondary
// instead. Request.Model names a model of primary, so secondary gets the
// request with Model cleared and answers with its own default.
//
// There is no fallback once primary has yielded anything (the caller already
// used it), nor when ctx was cancelled. The EventDone that ends a successful
// stream carries the Provider that answered. When both fail, the error is
// secondary's (KindOf reports its kind) and its text also says why primary failed.
func NewFallback(primary, secondary Provider) Provider {
	return &fallback{primary: primary, secondary: secondary}
}

// Name is both names joined by "+", e.g. "openai+anthropic".
func (f *fallback) Name() string { return f.primary.Name() + "+" + f.secondary.Name() }

// Model is the primary's default model.
func (f *fallback) Model() string { return f.primary.Model() }

// Stream streams from primary, or from secondary if primary fails before
// its first event.
func (f *fallback) Stream(ctx context.Context, req Request) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		var primaryErr error
		yielded := false
		for ev, err := range f.primary.Stream(ctx, req) {
			if err != nil {
				if yielded || ctx.Err() != nil || KindOf(err) == KindCanceled {
					yield(Event{}, err)
					return
				}
				primaryErr = err
				break
			}
			yielded = true
			if !yield(ev, nil) {
				return
			}
		}
		if primaryErr == nil {
			return
		}
		req.Model = ""
		for ev, err := range f.secondary.Stream(ctx, req) {
			if err != nil {
				if KindOf(err) != KindCanceled {
					err = fmt.Errorf("%w (after %s failed: %v)", err, f.primary.Name(), primaryErr)
				}
				yield(Event{}, err)
				return
			}
			if !yield(ev, nil) {
				return
			}
		}
	}
}

// Models lists the primary's models, if it can list them.
func (f *fallback) Models(ctx context.Context) ([]string, error) {
	if l, ok := f.primary.(ModelLister); ok {
		return l.Models(ctx)
	}
	return nil, fmt.Errorf("%s cannot list its models", f.primary.Name())
}
