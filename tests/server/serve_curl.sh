#!/usr/bin/env bash
# `awq serve` driven with curl, as the README shows it: models, a chat, a streamed chat
# (server-sent events ending with [DONE]), a completion, and the error statuses for a
# wrong key, malformed JSON and an unknown model; then Ctrl+C stops the server cleanly.
# usage: serve_curl.sh AWQ MODEL WORKDIR
set -euo pipefail
AWQ=$1 MODEL=$2 WORK=$3
rm -rf "$WORK" && mkdir -p "$WORK"
KEY=curl-key

"$AWQ" serve "$MODEL" --port 0 --api-key "$KEY" >"$WORK/stdout" 2>"$WORK/stderr" &
PID=$!
trap 'kill -9 $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  grep -q " at http://" "$WORK/stdout" 2>/dev/null && break
  kill -0 $PID 2>/dev/null || { cat "$WORK/stderr"; echo "serve_curl: awq serve exited" >&2; exit 1; }
  sleep 0.1
done
URL=$(sed -n 's/.* at \(http:\/\/[^ ]*\)\/v1 .*/\1/p' "$WORK/stdout")
[ -n "$URL" ] || { echo "serve_curl: no URL in: $(cat "$WORK/stdout")" >&2; exit 1; }
NAME=$(awk '{print $2}' "$WORK/stdout")

fail() { echo "serve_curl: $*" >&2; exit 1; }
# status BODY-FILE ARGS...: the HTTP status of a curl call, its body written to BODY-FILE.
status() { local out=$1; shift; curl -sS --max-time 60 -o "$out" -w '%{http_code}' "$@"; }

[ "$(status "$WORK/models" -H "Authorization: Bearer $KEY" "$URL/v1/models")" = 200 ] || fail "models: $(cat "$WORK/models")"
grep -q "\"id\":\"$NAME\"" "$WORK/models" || fail "models lists no $NAME: $(cat "$WORK/models")"

CHAT='{"model":"'"$NAME"'","messages":[{"role":"user","content":"Hello!"}],"max_tokens":16,"seed":1}'
[ "$(status "$WORK/chat" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d "$CHAT" \
     "$URL/v1/chat/completions")" = 200 ] || fail "chat: $(cat "$WORK/chat")"
grep -q '"object":"chat.completion"' "$WORK/chat" || fail "chat body: $(cat "$WORK/chat")"
grep -q '"completion_tokens":' "$WORK/chat" || fail "chat usage: $(cat "$WORK/chat")"

STREAM='{"model":"'"$NAME"'","messages":[{"role":"user","content":"Hello!"}],"max_tokens":16,"stream":true}'
curl -sS -N --max-time 60 -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d "$STREAM" \
     "$URL/v1/chat/completions" >"$WORK/stream"
grep -q '^data: {.*"chat.completion.chunk"' "$WORK/stream" || fail "stream: $(cat "$WORK/stream")"
[ "$(grep -v '^$' "$WORK/stream" | tail -1)" = "data: [DONE]" ] || fail "the stream does not end with [DONE]"

COMPLETE='{"prompt":"Once upon a time","max_tokens":8}'
[ "$(status "$WORK/complete" -H "Authorization: Bearer $KEY" -d "$COMPLETE" "$URL/v1/completions")" = 200 ] \
  || fail "completions: $(cat "$WORK/complete")"
grep -q '"object":"text_completion"' "$WORK/complete" || fail "completion body: $(cat "$WORK/complete")"

[ "$(status "$WORK/e401" -H "Authorization: Bearer wrong" -d "$CHAT" "$URL/v1/chat/completions")" = 401 ] || fail "wrong key"
grep -q '"invalid_api_key"' "$WORK/e401" || fail "401 body: $(cat "$WORK/e401")"
[ "$(status "$WORK/e400" -H "Authorization: Bearer $KEY" -d '{"messages": [' "$URL/v1/chat/completions")" = 400 ] \
  || fail "malformed JSON: $(cat "$WORK/e400")"
grep -q '"invalid_request_error"' "$WORK/e400" || fail "400 body: $(cat "$WORK/e400")"
[ "$(status "$WORK/e404" -H "Authorization: Bearer $KEY" -d '{"model":"nope","prompt":"x"}' "$URL/v1/completions")" = 404 ] \
  || fail "unknown model: $(cat "$WORK/e404")"
[ "$(status "$WORK/health" "$URL/health")" = 200 ] || fail "health"

kill -INT $PID
for _ in $(seq 1 300); do kill -0 $PID 2>/dev/null || break; sleep 0.1; done
kill -0 $PID 2>/dev/null && fail "awq serve still running 30 s after Ctrl+C"
wait $PID || fail "awq serve exited $? after Ctrl+C: $(cat "$WORK/stderr")"
grep -q "stopped after" "$WORK/stderr" || fail "no summary on Ctrl+C: $(cat "$WORK/stderr")"
echo "serve_curl: all checks passed against $URL"
