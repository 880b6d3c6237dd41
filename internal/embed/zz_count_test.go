package embed

import "testing"

func TestZZCount(t *testing.T) {
	u := model(t)
	n := 0
	for _, nd := range u.g.nodes {
		if nd.op == "_FusedLayerNorm" {
			n++
		}
	}
	t.Logf("fused layer norms %d, nodes %d", n, len(u.g.nodes))
}
