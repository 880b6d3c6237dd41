package llm

import (
	"encoding/json"
	"reflect"
	"testing"
)

// oaChunkCases are stream chunks as servers send them, and the odd ones the
// fast path must leave to encoding/json. fast says which the fast path takes.
var oaChunkCases = []struct {
	in   string
	fast bool
}{
	{`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1764950400,"model":"qwen","system_fingerprint":"b1","choices":[{"index":0,"delta":{"role":"assistant","content":null},"logprobs":null,"finish_reason":null}]}`, true},
	{`{"id":"c","object":"chat.completion.chunk","created":1,"model":"qwen","choices":[{"index":0,"delta":{"content":" word"},"logprobs":null,"finish_reason":null}]}`, true},
	{"\t{ \"choices\" : [ { \"index\" : 0 , \"delta\" : { \"content\" : \"x\" } } ] }\r\n", true},
	{`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"model":"qwen"}`, true},
	{`{"choices":[],"usage":{"prompt_tokens":1843,"completion_tokens":150,"total_tokens":1993,"prompt_tokens_details":{"cached_tokens":0}}}`, true},
	{`{"choices":[{"index":0,"delta":{"reasoning_content":"hmm","reasoning":"hmm"}}]}`, true},
	{`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}`, true},
	{`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"city\": \"Paris\"}"}}]}}]}`, true},
	{`{"choices":[{"index":1,"delta":{"content":"other choice"}},{"index":0,"delta":{"content":"mine"}}]}`, true},
	{`{"choices":[{"index":0,"delta":{"content":"line\nbreak \"quoted\" \u00e9 \ud83d\ude00 \/"}}]}`, true},
	{`{"choices":[{"index":0,"delta":{"content":"héllo 世界 😀"}}]}`, true},
	{`{"choices":null,"usage":null,"error":null,"model":null}`, true},
	{`{"choices":[{"index":null,"delta":null,"finish_reason":null}]}`, true},
	{`{"x":[1,-2.5e+3,0.0,true,false,null,{"a":[[]]},"s\u0041"],"choices":[]}`, true},
	{`{}`, true},
	{`{"choices":[{"index":-0,"delta":{"content":""}}]}`, true},

	// Left to encoding/json.
	{`{"error":{"message":"context size exceeded","type":"exceed_context_size_error"}}`, false},
	{`{"error":"boom"}`, false},
	{`{"Choices":[{"index":0,"delta":{"content":"case"}}]}`, false},
	{`{"choices":[{"index":0,"delta":{"CONTENT":"case"}}]}`, false},
	{`{"choices":[{"index":0,"delta":{"content":"a","content":"b"}}]}`, false},
	{`{"model":"a","model":"b"}`, false},
	{`{"choices":[{"index":1.0,"delta":{"content":"x"}}]}`, false},
	{`{"choices":[{"index":1e0}]}`, false},
	{`{"choices":[{"index":99999999999999999999}]}`, false},
	{`{"choices":[{"index":"0"}]}`, false},
	{`{"choices":[{"index":0,"delta":{"content":5}}]}`, false},
	{`{"choices":[null]}`, false},
	{`{"choices":{}}`, false},
	{"{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"bad \xff utf8\"}}]}", false},
	{`{"choices":[{"index":0,"delta":{"content":"bad \x escape"}}]}`, false},
	{"{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"raw \n newline\"}}]}", false},
	{`{"model":"a\u0041"}`, true},
	{`{"mod\u0065l":"a"}`, false},
	{`{"choices":[]} x`, false},
	{`{"choices":[],}`, false},
	{`{"x":01}`, false},
	{`{"x":tru}`, false},
	{`null`, false},
	{`[]`, false},
	{``, false},
	{`{"choices":[{"index":0,"delta":{"content":"x"}}]`, false},
}

// unmarshalOAChunk is the reference: json.Unmarshal into a zero oaChunk,
// with an error of null read as no error (as decode reads it).
func unmarshalOAChunk(data []byte) (*oaChunk, error) {
	ch := &oaChunk{}
	err := json.Unmarshal(data, ch)
	if string(ch.Error) == "null" {
		ch.Error = nil
	}
	return ch, err
}

func TestOAChunkDecoderMatchesJSON(t *testing.T) {
	var d oaChunkDecoder
	for _, tc := range oaChunkCases {
		got := d.decode([]byte(tc.in))
		if (got != nil) != tc.fast {
			t.Errorf("%s: fast path taken = %v, want %v", tc.in, got != nil, tc.fast)
		}
		if got == nil {
			continue
		}
		want, err := unmarshalOAChunk([]byte(tc.in))
		if err != nil {
			t.Errorf("%s: fast path decoded what json.Unmarshal rejects: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\nfast %+v\njson %+v", tc.in, got, want)
		}
	}
}

func FuzzOAChunkDecoder(f *testing.F) {
	for _, tc := range oaChunkCases {
		f.Add([]byte(tc.in), []byte(oaChunkCases[0].in))
	}
	f.Fuzz(func(t *testing.T, first, second []byte) {
		var d oaChunkDecoder // one decoder for both: what one chunk leaves must not show in the next
		for _, in := range [][]byte{first, second} {
			got := d.decode(in)
			if got == nil {
				continue
			}
			want, err := unmarshalOAChunk(in)
			if err != nil {
				t.Fatalf("%q: fast path decoded what json.Unmarshal rejects: %v", in, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q:\nfast %+v\njson %+v", in, got, want)
			}
		}
	})
}

var anEventCases = []struct {
	in   string
	fast bool
}{
	{`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" word"}}`, true},
	{`{"type": "ping"}`, true},
	{`{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Par"}}`, true},
	{`{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me see"}}`, true},
	{`{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM"}}`, true},
	{`{"type":"content_block_stop","index":0}`, true},
	{`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":150}}`, true},
	{`{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"input_tokens":10,"output_tokens":15,"cache_creation_input_tokens":1,"cache_read_input_tokens":2,"server_tool_use":{"web_search_requests":0}}}`, true},
	{`{"type":"message_stop"}`, true},
	{`{"type":"some_new_event","index":3,"whatever":[1,{"a":null}]}`, true},
	{`{"type":null,"index":null,"delta":null,"usage":null,"message":null,"content_block":null,"error":null}`, true},
	{`{"type":"content_block_delta","delta":{"type":"text_delta","text":"\u00e9\n"}}`, true},

	{`{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude","usage":{"input_tokens":5,"output_tokens":1}}}`, false},
	{`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`, false},
	{`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, false},
	{`{"Type":"ping"}`, false},
	{`{"type":"content_block_delta","delta":{"type":"text_delta","Text":"x"}}`, false},
	{`{"type":"content_block_delta","index":"0"}`, false},
	{`{"type":"a","type":"b"}`, false},
	{`{"type":"ping"`, false},
}

func TestAnEventDecoderMatchesJSON(t *testing.T) {
	var d anEventDecoder
	for _, tc := range anEventCases {
		got := d.decode([]byte(tc.in))
		if (got != nil) != tc.fast {
			t.Errorf("%s: fast path taken = %v, want %v", tc.in, got != nil, tc.fast)
		}
		if got == nil {
			continue
		}
		var want anEvent
		if err := json.Unmarshal([]byte(tc.in), &want); err != nil {
			t.Errorf("%s: fast path decoded what json.Unmarshal rejects: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("%s:\nfast %+v\njson %+v", tc.in, got, &want)
		}
	}
}

func FuzzAnEventDecoder(f *testing.F) {
	for _, tc := range anEventCases {
		f.Add([]byte(tc.in), []byte(anEventCases[0].in))
	}
	f.Fuzz(func(t *testing.T, first, second []byte) {
		var d anEventDecoder
		for _, in := range [][]byte{first, second} {
			got := d.decode(in)
			if got == nil {
				continue
			}
			var want anEvent
			if err := json.Unmarshal(in, &want); err != nil {
				t.Fatalf("%q: fast path decoded what json.Unmarshal rejects: %v", in, err)
			}
			if !reflect.DeepEqual(got, &want) {
				t.Fatalf("%q:\nfast %+v\njson %+v", in, got, &want)
			}
		}
	})
}
