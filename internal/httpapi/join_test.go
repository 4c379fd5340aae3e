package httpapi

import (
	"net/http"
	"testing"
)

// FuzzJoinBody: any join body of up to maxJoinBody bytes either decodes
// or is a 400 in plain words; nothing panics.
func FuzzJoinBody(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"queue_token":"q"}`, `{"ticket":"t"}`, `{"pow":{"challenge":"c","nonce":"n"}}`,
		`{"pow":null}`, `{"pow":[]}`, `{"ticket":5}`, `{"queue_token":"a"} x`, `{"pow":{"nonce":1e999}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxJoinBody {
			return // refused by the size limit before decoding
		}
		var req joinRequest
		err := decodeJSON(b, &req)
		if err == nil {
			return
		}
		st, code, msg := classify(err)
		if st != http.StatusBadRequest || code != "bad_json" || msg == "" {
			t.Fatalf("join body %q: %d %s %q, want a 400 bad_json", b, st, code, msg)
		}
		if leaksGo(msg) {
			t.Fatalf("join body %q: message shows Go internals: %q", b, msg)
		}
	})
}
