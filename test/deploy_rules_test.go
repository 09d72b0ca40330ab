package test

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/livesign/livesign/internal/validators"
)

const rulesDir = "../deploy/prometheus"

// TestDeployPromtoolRules: promtool accepts the alert rules and their unit tests pass; a unit
// test with a wrong expectation fails, so a passing run means something.
func TestDeployPromtoolRules(t *testing.T) {
	t.Parallel()
	promtool := validators.Require(t, "promtool")
	promtoolRun := func(dir string, args ...string) (string, error) {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := promtoolRun(rulesDir, "check", "rules", "livesign-rules.yml"); err != nil || !strings.Contains(out, "SUCCESS") {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	out, err := promtoolRun(rulesDir, "test", "rules", "livesign-rules.test.yml")
	if err != nil || !strings.Contains(out, "SUCCESS") {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}

	// Negative control: the expired-bundle alert must not fire while the bundle is valid.
	tmp := t.TempDir()
	rules, _ := os.ReadFile(filepath.Join(rulesDir, "livesign-rules.yml"))
	os.WriteFile(filepath.Join(tmp, "livesign-rules.yml"), rules, 0o644)
	os.WriteFile(filepath.Join(tmp, "wrong.test.yml"), []byte(`rule_files: [livesign-rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'coredns_livesign_bundle_expiration_timestamp_seconds{zone="example.net."}'
        values: '2592000x60'
    alert_rule_test:
      - eval_time: 30m
        alertname: LivesignBundleExpired
        exp_alerts:
          - exp_labels: {severity: critical, zone: example.net.}
`), 0o644)
	if out, err := promtoolRun(tmp, "test", "rules", "wrong.test.yml"); err == nil {
		t.Fatalf("promtool test rules passed a wrong expectation:\n%s", out)
	}
}

// ruleMetricNames returns the metric names the rules' expressions use (promqlMetricNames), each
// with the alerts that use it.
func ruleMetricNames(t *testing.T, path string) map[string][]string {
	t.Helper()
	names := map[string][]string{}
	for alert, e := range ruleExprs(t, path) {
		for _, n := range promqlMetricNames(e) {
			names[n] = append(names[n], alert)
		}
	}
	return names
}

// ruleExprs returns the expr of each alert in a rules file, by alert name.
func ruleExprs(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	exprs := map[string]string{}
	exprLine := regexp.MustCompile(`^\s*expr:\s*(.+)$`)
	alertLine := regexp.MustCompile(`^\s*- alert:\s*(\S+)`)
	alert := ""
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		if m := alertLine.FindStringSubmatch(sc.Text()); m != nil {
			alert = m[1]
		}
		m := exprLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		e := m[1]
		if strings.HasPrefix(e, "|") || strings.HasPrefix(e, ">") {
			t.Fatalf("%s: multi-line expr of %s: keep exprs on one line for this test", path, alert)
		}
		exprs[alert] = e
	}
	return exprs
}

// promqlMetricNames returns the metric names a PromQL expression uses. PromQL is not parsed in
// full: string literals, label matchers, ranges, the label lists of by/without/on/ignoring/
// group_* and number and duration literals are removed; what is left that is an identifier not
// followed by "(" and not a keyword is a metric name.
func promqlMetricNames(e string) []string {
	for _, re := range promqlStrip {
		e = re.ReplaceAllString(e, "$1 ")
	}
	var names []string
	for _, id := range promqlIdent.FindAllString(e, -1) {
		if strings.HasSuffix(id, "(") || promqlKeywords[strings.ToLower(id)] {
			continue
		}
		names = append(names, id)
	}
	return names
}

var (
	promqlKeywords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true,
		"group_right": true, "and": true, "or": true, "unless": true, "bool": true, "offset": true, "atan2": true,
		"inf": true, "nan": true}
	// Each keeps its first group (the character before a number) and drops the rest.
	promqlStrip = []*regexp.Regexp{
		regexp.MustCompile(`()(?:"(\\.|[^"\\])*"|'(\\.|[^'\\])*'|` + "`[^`]*`)"),
		regexp.MustCompile(`()\{[^}]*\}`),
		regexp.MustCompile(`()\[[^\]]*\]`),
		regexp.MustCompile(`()\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`),
		regexp.MustCompile(`(^|[^a-zA-Z0-9_:])[0-9.][0-9a-zA-Z_.]*`),
	}
	promqlIdent = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
)

// declaredMetrics returns the full names of the collectors declared in metrics.go:
// Namespace (plugin.Namespace = "coredns") _ Subsystem _ Name of every prometheus *Opts literal.
func declaredMetrics(t *testing.T) map[string]bool {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../metrics.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		sel, ok := lit.Type.(*ast.SelectorExpr)
		if !ok || !strings.HasSuffix(sel.Sel.Name, "Opts") {
			return true
		}
		parts := map[string]string{}
		for _, el := range lit.Elts {
			kv, ok := el.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			key := kv.Key.(*ast.Ident).Name
			switch v := kv.Value.(type) {
			case *ast.BasicLit:
				s, _ := strconv.Unquote(v.Value)
				parts[key] = s
			case *ast.SelectorExpr:
				if v.Sel.Name == "Namespace" {
					parts[key] = "coredns"
				}
			}
		}
		var full []string
		for _, k := range []string{"Namespace", "Subsystem", "Name"} {
			if parts[k] != "" {
				full = append(full, parts[k])
			}
		}
		names[strings.Join(full, "_")] = true
		return true
	})
	return names
}

// scrapeMetrics returns the metric family names a running server exports.
func scrapeMetrics(t *testing.T, url string) map[string]bool {
	t.Helper()
	var body string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				body = string(b)
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	names := map[string]bool{}
	for _, l := range strings.Split(body, "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == "#" && f[1] == "TYPE" {
			names[f[2]] = true
		}
	}
	return names
}

// external are the metrics the rules and the dashboard may use that neither livesign nor CoreDNS
// export, with who does.
var external = map[string]string{
	"kube_pod_status_ready": "kube-state-metrics: the kubelet's verdict of the readiness probe, which is the ready plugin asking livesign",
	"up":                    "Prometheus itself, per scrape target",
}

// metricCatalog is what there is to query: the metrics metrics.go declares and those a running
// CoreDNS with livesign and the prometheus plugin exports (livesign's that have a value, and
// CoreDNS' own), besides the external ones.
type metricCatalog struct {
	declared, scraped map[string]bool
}

// knows reports whether name is declared, scraped or external.
func (c metricCatalog) knows(name string) bool {
	_, ext := external[name]
	return c.declared[name] || c.scraped[name] || ext
}

// unknown returns, sorted, one line for each name in used (a metric name and what uses it) that
// the catalog does not know.
func (c metricCatalog) unknown(used map[string][]string) []string {
	var bad []string
	for _, n := range slices.Sorted(mapKeys(used)) {
		if !c.knows(n) {
			bad = append(bad, fmt.Sprintf("%s (used by %v)", n, used[n]))
		}
	}
	return bad
}

// liveMetricCatalog parses metrics.go, runs CoreDNS in-process with livesign and the prometheus
// plugin (HTTP on 127.0.0.1), asks it a signed name and a name that does not exist, and scrapes
// it. It fails the test if the server exports a livesign metric the parse did not find, or lacks
// one of the gauges that must be there once a zone is loaded and signing.
func liveMetricCatalog(t *testing.T) metricCatalog {
	t.Helper()
	declared := declaredMetrics(t)
	for _, want := range []string{"coredns_livesign_signing_failures_total", "coredns_livesign_bundle_expiration_timestamp_seconds"} {
		if !declared[want] {
			t.Fatalf("metrics.go parse found %v, not %s", slices.Sorted(mapKeys(declared)), want)
		}
	}

	kf := livesignCeremony(t, "example.net", "ECDSAP256SHA256")
	var mport int
	server := startServerWith(t, "example.net", kf, func() []string {
		mport = validators.FreePort(t)
		return []string{fmt.Sprintf("prometheus 127.0.0.1:%d", mport)}
	})
	signedAnswer(t, server, "example.net.", "www.example.net.", dns.TypeA)
	m := new(dns.Msg)
	m.SetQuestion("nope.example.net.", dns.TypeA)
	m.SetEdns0(1232, true)
	dns.Exchange(m, server)
	scraped := scrapeMetrics(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", mport))
	// What the server exports of livesign's is what metrics.go declares: the parse above misses
	// nothing, and the gauges the rules and the dashboard use are really there.
	for n := range scraped {
		if strings.HasPrefix(n, "coredns_livesign_") && !declared[n] {
			t.Errorf("the server exports %s, which the metrics.go parse did not find", n)
		}
	}
	for _, n := range []string{"coredns_livesign_active_zsk_tag", "coredns_livesign_bundle_expiration_timestamp_seconds",
		"coredns_livesign_next_key_event_timestamp_seconds", "coredns_livesign_zsks", "coredns_livesign_fallback_in_use",
		"coredns_livesign_signatures_total"} {
		if !scraped[n] {
			t.Errorf("a running server does not export %s (scraped: %v)", n, slices.Sorted(mapKeys(scraped)))
		}
	}
	return metricCatalog{declared: declared, scraped: scraped}
}

// TestDeployRulesMetricNames: every metric the alert rules use exists: declared in metrics.go
// or exported by a running CoreDNS with livesign and the prometheus plugin (scraped over HTTP
// on 127.0.0.1), or one of the few external ones. A rule naming a misspelt or removed metric
// would never fire; this test fails instead.
func TestDeployRulesMetricNames(t *testing.T) {
	catalog := liveMetricCatalog(t)
	used := ruleMetricNames(t, filepath.Join(rulesDir, "livesign-rules.yml"))
	if len(used) < 8 {
		t.Fatalf("found only %v in the rules: the expression parser is broken", used)
	}
	for _, bad := range catalog.unknown(used) {
		t.Errorf("the alerts use a metric that livesign and CoreDNS do not export: %s", bad)
	}
	// The check catches a misspelt name.
	misspelt := map[string][]string{"coredns_livesign_signing_failure_total": {"LivesignSigningFailures"}}
	if len(catalog.unknown(misspelt)) != 1 {
		t.Error("a misspelt metric name counts as known")
	}
	t.Logf("metrics used by the rules: %v", slices.Sorted(mapKeys(used)))
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
