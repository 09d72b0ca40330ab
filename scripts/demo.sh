#!/usr/bin/env bash
# demo.sh — `make run`: creates demo keys the offline-KSK way and serves a
# signed example zone on 127.0.0.1:1053 (UDP and TCP) until Ctrl-C.
#
#   .demo/ksk-offline/   the KSK (in real life: on the offline machine only)
#   .demo/keys/          the online ZSK
#   .demo/ZONE.bundle    DNSKEY RRset (KSK + ZSK) signed by the KSK
#   .demo/anchor.ds      DS of the KSK: the trust anchor
#   .demo/db.ZONE        the unsigned zone, .demo/Corefile
#
# Existing keys are kept; the bundle is re-signed on every run so it never
# expires under the demo. Environment: ZONE (example.net), PORT (1053).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

zone=${ZONE:-example.net}
zone=${zone%.}
port=${PORT:-1053}
demo=.demo
livesign=bin/livesign
coredns=bin/coredns
[[ -x $livesign && -x $coredns ]] || { echo "demo: run 'make build' first" >&2; exit 1; }

mkdir -p "$demo"
chmod 700 "$demo"

if ! ls "$demo"/ksk-offline/K"$zone".+*.private >/dev/null 2>&1; then
  echo "== offline side: generating the KSK in $demo/ksk-offline"
  "$livesign" keygen -zone "$zone" -ksk -algorithm ECDSAP256SHA256 -dir "$demo/ksk-offline"
fi
if ! ls "$demo"/keys/K"$zone".+*.private >/dev/null 2>&1; then
  echo "== online side: generating the ZSK in $demo/keys"
  "$livesign" keygen -zone "$zone" -zsk -algorithm ECDSAP256SHA256 -dir "$demo/keys"
fi

echo "== offline side: signing the DNSKEY RRset (KSK + ZSK public keys) into $demo/$zone.bundle"
"$livesign" bundle -ksk "$demo/ksk-offline" -zsk "$demo/keys" -zone "$zone" -out "$demo/$zone.bundle" -validity 30d
"$livesign" ds "$demo"/ksk-offline/K"$zone".+*.key >"$demo/anchor.ds"

# delv wants the anchor as a trust-anchors clause. The DS field is found by name: BIND's
# dnssec-dsfromkey writes no TTL, and may split the digest.
awk 'BEGIN { print "trust-anchors {" }
  { for (i = 1; i < NF; i++) if ($i == "DS") { d = ""; for (j = i + 4; j <= NF; j++) d = d $j
      printf "  %s static-ds %s %s %s \"%s\";\n", $1, $(i + 1), $(i + 2), $(i + 3), d; break } }
  END { print "};" }' "$demo/anchor.ds" >"$demo/anchor.delv"

cat >"$demo/db.$zone" <<ZONE
\$ORIGIN $zone.
\$TTL 300
@           IN SOA   ns1 hostmaster 2026112301 3600 600 864000 300
@           IN NS    ns1
@           IN MX    10 mail
@           IN TXT   "v=spf1 -all"
ns1         IN A     127.0.0.1
www         IN A     192.0.2.10
www         IN AAAA  2001:db8::10
mail        IN A     192.0.2.25
alias       IN CNAME www
outside     IN CNAME www.example.invalid.
*.wild      IN A     192.0.2.99
*.wild      IN TXT   "wildcard"
leaf.ent    IN A     192.0.2.50
insecure    IN NS    ns.insecure
ns.insecure IN A     192.0.2.53
secure      IN NS    ns.secure
secure      IN DS    12345 13 2 abababababababababababababababababababababababababababababababab
ns.secure   IN A     192.0.2.54
big         IN TXT   "$(printf 'x%.0s' $(seq 1 250))" "$(printf 'y%.0s' $(seq 1 250))" "$(printf 'z%.0s' $(seq 1 250))" "$(printf 'w%.0s' $(seq 1 250))" "$(printf 'v%.0s' $(seq 1 250))"
ZONE

cat >"$demo/Corefile" <<COREFILE
$zone:$port {
    bind 127.0.0.1
    errors
    log
    file db.$zone
    livesign $zone {
        keys keys
        bundle $zone.bundle
        trust-anchor anchor.ds
    }
}
COREFILE

cat <<MSG

== serving $zone on 127.0.0.1:$port (UDP and TCP); Ctrl-C stops it. In another shell:

  delv @127.0.0.1 -p $port -a $demo/anchor.delv +root=$zone www.$zone A
  delv @127.0.0.1 -p $port -a $demo/anchor.delv +root=$zone nope.$zone A
  delv @127.0.0.1 -p $port -a $demo/anchor.delv +root=$zone big.$zone TXT   # TC over UDP, then TCP
  dig @127.0.0.1 -p $port +dnssec www.$zone A

delv prints "; fully validated" when the chain from the anchor to the answer holds.

MSG
cd "$demo"
exec "../$coredns" -conf Corefile
