package test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/livesign/livesign/internal/validators"
)

const dashboardPath = "../deploy/grafana/livesign.json"

// The parts of Grafana's dashboard JSON model (schemaVersion 39, Grafana 10 and 11) the tests
// look at; encoding/json matches the field names without regard to case.
type (
	gfDashboard struct {
		ID            *json.RawMessage `json:"id"`
		UID           string
		Title         string
		Tags          []string
		SchemaVersion int `json:"schemaVersion"`
		Time          struct{ From, To string }
		Templating    struct{ List []gfVariable }
		Panels        []gfPanel
	}
	gfDatasource struct{ Type, UID string }
	gfVariable   struct {
		Name, Type string
		Datasource *gfDatasource
		Query      json.RawMessage // a string, or an object whose "query" is the string
	}
	gfPanel struct {
		ID          int
		Type        string
		Title       string
		Description string
		GridPos     *struct{ H, W, X, Y int } `json:"gridPos"`
		Datasource  *gfDatasource
		Targets     []gfTarget
		Panels      []gfPanel // the panels of a collapsed row
		FieldConfig struct {
			Defaults  gfFieldProps
			Overrides []struct {
				Matcher    struct{ ID string }
				Properties []struct {
					ID    string
					Value json.RawMessage
				}
			}
		} `json:"fieldConfig"`
	}
	gfTarget struct {
		RefID      string `json:"refId"`
		Expr       string
		Datasource *gfDatasource
	}
	gfFieldProps struct {
		Unit       string
		Thresholds *gfThresholds
	}
	gfThresholds struct {
		Mode  string
		Steps []struct {
			Color string
			Value *float64
		}
	}
)

// gfExpr is a PromQL expression of the dashboard and where it is.
type gfExpr struct{ where, expr string }

// queryText returns a query variable's query: the string, or the "query" of the object.
func (v gfVariable) queryText() string {
	var s string
	if json.Unmarshal(v.Query, &s) == nil {
		return s
	}
	var o struct{ Query string }
	json.Unmarshal(v.Query, &o)
	return o.Query
}

// allPanels returns the dashboard's panels with those of collapsed rows.
func (d gfDashboard) allPanels() []gfPanel {
	var all []gfPanel
	for _, p := range d.Panels {
		all = append(all, p)
		all = append(all, p.Panels...)
	}
	return all
}

// exprs returns every PromQL expression the dashboard runs: each panel target's expr, and the
// selector of each label_values(SELECTOR, LABEL) or query_result(EXPR) variable query. A
// variable query of another form is returned whole, where a PromQL check will choke on it.
func (d gfDashboard) exprs() []gfExpr {
	var out []gfExpr
	for _, p := range d.allPanels() {
		for _, tg := range p.Targets {
			out = append(out, gfExpr{fmt.Sprintf("panel %d %q target %s", p.ID, p.Title, tg.RefID), tg.Expr})
		}
	}
	labelValues := regexp.MustCompile(`^\s*label_values\(\s*(.+?)\s*,\s*[a-zA-Z_]\w*\s*\)\s*$`)
	queryResult := regexp.MustCompile(`^\s*query_result\((.+)\)\s*$`)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, where := v.queryText(), "variable "+v.Name
		if m := labelValues.FindStringSubmatch(q); m != nil {
			out = append(out, gfExpr{where, m[1]})
		} else if m := queryResult.FindStringSubmatch(q); m != nil {
			out = append(out, gfExpr{where, m[1]})
		} else {
			out = append(out, gfExpr{where, q})
		}
	}
	return out
}

// gfVarRef matches a Grafana variable reference: ${name}, ${name:format}, $name, [[name]].
var gfVarRef = regexp.MustCompile(`\$\{([a-zA-Z_]\w*)(?::[^}]*)?\}|\$([a-zA-Z_]\w*)|\[\[([a-zA-Z_]\w*)(?::[^\]]*)?\]\]`)

// gfBuiltins are Grafana's global variables a Prometheus query may use, each with a stand-in
// value of its kind for a PromQL parse.
var gfBuiltins = map[string]string{
	"__interval": "5m", "__rate_interval": "5m", "__range": "5m",
	"__interval_ms": "300000", "__range_s": "300", "__range_ms": "300000", "__from": "0", "__to": "0",
}

// gfVarNames returns the names of the variables expr refers to.
func gfVarNames(expr string) []string {
	var names []string
	for _, m := range gfVarRef.FindAllStringSubmatch(expr, -1) {
		names = append(names, m[1]+m[2]+m[3])
	}
	return names
}

// gfInterpolate replaces each variable reference as Grafana would before sending the query:
// a built-in by a value of its kind, a template variable by a plain label value.
func gfInterpolate(expr string) string {
	return gfVarRef.ReplaceAllStringFunc(expr, func(ref string) string {
		n := gfVarNames(ref)[0]
		if v, ok := gfBuiltins[n]; ok {
			return v
		}
		return "x"
	})
}

// gfMetricNames returns the metric names the dashboard's expressions use, each with where.
func gfMetricNames(d gfDashboard) map[string][]string {
	used := map[string][]string{}
	for _, e := range d.exprs() {
		for _, n := range promqlMetricNames(gfInterpolate(e.expr)) {
			used[n] = append(used[n], e.where)
		}
	}
	return used
}

func parseDashboard(b []byte) (gfDashboard, error) {
	var d gfDashboard
	err := json.Unmarshal(b, &d)
	return d, err
}

// gfPanelTypes are the panel types of Grafana 10 and 11's core that a dashboard may use.
var gfPanelTypes = map[string]bool{"row": true, "stat": true, "timeseries": true, "table": true,
	"state-timeline": true, "status-history": true, "gauge": true, "bargauge": true, "barchart": true,
	"text": true, "heatmap": true, "piechart": true}

// dashboardProblems returns what is wrong with the dashboard JSON b as a Grafana 10/11 dashboard
// model that queries Prometheus through a datasource variable, one line per problem. Coverage
// panels (those querying bundle_coverage_seconds, or bundle_expiration_timestamp_seconds less
// time()) must colour red under crit seconds, orange under warn and green above, as the alerts.
func dashboardProblems(b []byte, warn, crit float64) []string {
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	d, err := parseDashboard(b)
	if err != nil {
		return []string{"not a dashboard model: " + err.Error()}
	}
	if d.ID != nil {
		fail("has an id (%s): Grafana assigns it; an imported dashboard must not carry one", *d.ID)
	}
	if d.Title == "" {
		fail("no title")
	}
	if !regexp.MustCompile(`^[a-zA-Z0-9_-]{1,40}$`).MatchString(d.UID) {
		fail("uid %q: want 1 to 40 letters, digits, - or _", d.UID)
	}
	if d.SchemaVersion < 36 || d.SchemaVersion > 41 {
		fail("schemaVersion %d: want that of Grafana 10 or 11 (36 to 41)", d.SchemaVersion)
	}
	if len(d.Tags) == 0 {
		fail("no tags")
	}
	if d.Time.From == "" || d.Time.To == "" {
		fail("no default time range: %+v", d.Time)
	}

	// Template variables: a datasource variable for Prometheus, a zone variable, unique names.
	vars := map[string]gfVariable{}
	dsVar := ""
	for _, v := range d.Templating.List {
		if v.Name == "" {
			fail("a template variable without a name")
		}
		if _, dup := vars[v.Name]; dup {
			fail("template variable %q twice", v.Name)
		}
		vars[v.Name] = v
		if v.Type == "datasource" && v.queryText() == "prometheus" {
			dsVar = v.Name
		}
	}
	if v, ok := vars["datasource"]; !ok || v.Type != "datasource" || v.queryText() != "prometheus" {
		fail("no template variable datasource of type datasource with query prometheus (have %v)", slices.Sorted(mapKeys(vars)))
	}
	wantDS := gfDatasource{Type: "prometheus", UID: "${" + dsVar + "}"}
	checkDS := func(where string, ds *gfDatasource) {
		if dsVar != "" && (ds == nil || *ds != wantDS) {
			fail("%s: datasource %+v, want %+v (the datasource variable)", where, ds, wantDS)
		}
	}
	if v, ok := vars["zone"]; !ok || v.Type != "query" || !strings.HasPrefix(v.queryText(), "label_values(") {
		fail("no template variable zone of type query with a label_values query")
	}
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			checkDS("variable "+v.Name, v.Datasource)
		}
	}

	// Panels: unique ids, known types, places on the 24-column grid that do not overlap, and for
	// each one that shows data: a description, a unit and Prometheus targets through the variable.
	ids := map[int]string{}
	type rect struct {
		x, y, w, h int
		title      string
	}
	var placed []rect
	for i, p := range d.allPanels() {
		name := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		if p.ID <= 0 {
			fail("panel #%d %q: no id", i, p.Title)
		} else if other, dup := ids[p.ID]; dup {
			fail("%s: id %d also has panel %q", name, p.ID, other)
		}
		ids[p.ID] = p.Title
		if !gfPanelTypes[p.Type] {
			fail("%s: type %q is not a core panel type", name, p.Type)
		}
		if p.Title == "" {
			fail("panel #%d (id %d): no title", i, p.ID)
		}
		if g := p.GridPos; g == nil {
			fail("%s: no gridPos", name)
		} else if g.W < 1 || g.H < 1 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
			fail("%s: gridPos %+v is off the 24-column grid", name, *g)
		} else if slices.ContainsFunc(d.Panels, func(q gfPanel) bool { return q.ID == p.ID }) {
			r := rect{g.X, g.Y, g.W, g.H, p.Title}
			for _, o := range placed {
				if r.x < o.x+o.w && o.x < r.x+r.w && r.y < o.y+o.h && o.y < r.y+r.h {
					fail("%s: gridPos %+v overlaps panel %q", name, *g, o.title)
				}
			}
			placed = append(placed, r)
		}
		if p.Type == "row" || p.Type == "text" {
			if len(p.Targets) > 0 {
				fail("%s: a %s with targets", name, p.Type)
			}
			continue
		}
		if strings.TrimSpace(p.Description) == "" {
			fail("%s: no description (say what a bad value means and what to do)", name)
		}
		if p.FieldConfig.Defaults.Unit == "" {
			fail("%s: no unit (fieldConfig.defaults.unit)", name)
		}
		checkDS(name, p.Datasource)
		if len(p.Targets) == 0 {
			fail("%s: no targets", name)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			where := fmt.Sprintf("%s target %s", name, tg.RefID)
			if tg.RefID == "" || refs[tg.RefID] {
				fail("%s: refId empty or repeated", where)
			}
			refs[tg.RefID] = true
			checkDS(where, tg.Datasource)
			if strings.TrimSpace(tg.Expr) == "" {
				fail("%s: no expr", where)
			} else if !slices.Contains(gfVarNames(tg.Expr), "zone") {
				fail("%s: expr does not filter by $zone: %s", where, tg.Expr)
			}
		}
	}

	// Every variable an expression refers to is a template variable or a Grafana built-in.
	for _, e := range d.exprs() {
		for _, n := range gfVarNames(e.expr) {
			if _, builtin := gfBuiltins[n]; !builtin && vars[n].Name == "" {
				fail("%s: $%s is not a template variable: %s", e.where, n, e.expr)
			}
		}
	}

	// Coverage is coloured as the alerts fire: red under crit, orange under warn.
	coverage := 0
	for _, p := range d.allPanels() {
		covers := slices.ContainsFunc(p.Targets, func(tg gfTarget) bool {
			return strings.Contains(tg.Expr, "coredns_livesign_bundle_coverage_seconds") ||
				strings.Contains(tg.Expr, "coredns_livesign_bundle_expiration_timestamp_seconds") && strings.Contains(tg.Expr, "- time()")
		})
		if !covers {
			continue
		}
		props := []gfFieldProps{p.FieldConfig.Defaults}
		for _, o := range p.FieldConfig.Overrides {
			var fp gfFieldProps
			for _, pr := range o.Properties {
				switch pr.ID {
				case "unit":
					json.Unmarshal(pr.Value, &fp.Unit)
				case "thresholds":
					json.Unmarshal(pr.Value, &fp.Thresholds)
				}
			}
			props = append(props, fp)
		}
		for _, fp := range props {
			if fp.Unit != "s" {
				continue
			}
			coverage++
			var got []string
			if fp.Thresholds != nil {
				for _, s := range fp.Thresholds.Steps {
					v := "base"
					if s.Value != nil {
						v = strconv.FormatFloat(*s.Value, 'f', -1, 64)
					}
					got = append(got, s.Color+"@"+v)
				}
			}
			want := []string{"red@base", "orange@" + strconv.FormatFloat(crit, 'f', -1, 64), "green@" + strconv.FormatFloat(warn, 'f', -1, 64)}
			if !slices.Equal(got, want) {
				fail("panel %d %q: coverage thresholds %v, want %v as the alert rules", p.ID, p.Title, got, want)
			}
		}
	}
	if coverage == 0 {
		fail("no coverage panel (bundle_expiration_timestamp_seconds - time() in seconds)")
	}
	return bad
}

// ruleCoverageThresholds returns, in seconds, the coverage under which the warning and the
// critical coverage alerts fire ("... < N * 86400" in their exprs).
func ruleCoverageThresholds(t *testing.T) (warn, crit float64) {
	t.Helper()
	exprs := ruleExprs(t, filepath.Join(rulesDir, "livesign-rules.yml"))
	days := regexp.MustCompile(`<\s*(\d+)\s*\*\s*86400\s*$`)
	get := func(alert string) float64 {
		m := days.FindStringSubmatch(exprs[alert])
		if m == nil {
			t.Fatalf("alert %s: expr %q does not end in < N * 86400", alert, exprs[alert])
		}
		n, _ := strconv.Atoi(m[1])
		return float64(n * 86400)
	}
	return get("LivesignBundleCoverageLow"), get("LivesignBundleCoverageCritical")
}

// gfMutate returns b with edit applied to its generic JSON form.
func gfMutate(t *testing.T, b []byte, edit func(d map[string]any)) []byte {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	edit(d)
	out, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// gfPanelByTitle returns the generic form of the top-level panel titled title that is not a row.
func gfPanelByTitle(t *testing.T, d map[string]any, title string) map[string]any {
	t.Helper()
	for _, p := range d["panels"].([]any) {
		if p := p.(map[string]any); p["title"] == title && p["type"] != "row" {
			return p
		}
	}
	t.Fatalf("no panel %q", title)
	return nil
}

// gfTargets returns the generic form of a panel's targets.
func gfTargets(p map[string]any) []map[string]any {
	var ts []map[string]any
	for _, tg := range p["targets"].([]any) {
		ts = append(ts, tg.(map[string]any))
	}
	return ts
}

// gfVariableByName returns the generic form of the template variable name.
func gfVariableByName(t *testing.T, d map[string]any, name string) map[string]any {
	t.Helper()
	for _, v := range d["templating"].(map[string]any)["list"].([]any) {
		if v := v.(map[string]any); v["name"] == name {
			return v
		}
	}
	t.Fatalf("no variable %q", name)
	return nil
}

// TestDeployGrafanaDashboard: deploy/grafana/livesign.json is a Grafana 10/11 dashboard model
// (dashboardProblems: schemaVersion, title, uid, tags, time, no id; panels with unique ids, core
// types, non-overlapping places on the grid, descriptions, units, Prometheus targets through the
// ${datasource} variable, each filtered by $zone; the datasource and zone variables; no
// undeclared variable in an expression; coverage thresholds those of the alert rules). Each
// check is shown to fail on a copy broken in the way it looks for.
func TestDeployGrafanaDashboard(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	warn, crit := ruleCoverageThresholds(t)
	if warn != 14*86400 || crit != 3*86400 {
		t.Errorf("coverage alerts at %v and %v s, the README and dashboard descriptions say 14 and 3 days", warn, crit)
	}
	for _, p := range dashboardProblems(b, warn, crit) {
		t.Error(p)
	}
	d, _ := parseDashboard(b)
	var types []string
	for _, p := range d.allPanels() {
		types = append(types, p.Type)
	}
	for _, want := range []string{"row", "stat", "timeseries", "state-timeline", "table"} {
		if !slices.Contains(types, want) {
			t.Errorf("no %s panel (panels: %v)", want, types)
		}
	}

	// Negative controls: each breakage is reported.
	for _, c := range []struct {
		name, want string
		edit       func(d map[string]any)
	}{
		{"not JSON", "not a dashboard model", nil},
		{"no schemaVersion", "schemaVersion 0", func(d map[string]any) { delete(d, "schemaVersion") }},
		{"an id", "has an id", func(d map[string]any) { d["id"] = 7 }},
		{"no uid", "uid", func(d map[string]any) { delete(d, "uid") }},
		{"duplicate panel id", "also has panel", func(d map[string]any) {
			ps := d["panels"].([]any)
			ps[2].(map[string]any)["id"] = ps[1].(map[string]any)["id"]
		}},
		{"overlapping panels", "overlaps panel", func(d map[string]any) {
			gfPanelByTitle(t, d, "Bundle expires")["gridPos"].(map[string]any)["x"] = 3
		}},
		{"off the grid", "off the 24-column grid", func(d map[string]any) {
			gfPanelByTitle(t, d, "Fallback in use")["gridPos"].(map[string]any)["w"] = 7
		}},
		{"no gridPos", "no gridPos", func(d map[string]any) { delete(gfPanelByTitle(t, d, "Per-replica state"), "gridPos") }},
		{"unknown panel type", "not a core panel type", func(d map[string]any) { gfPanelByTitle(t, d, "Per-replica state")["type"] = "graph-old" }},
		{"fixed datasource on a target", "target A: datasource", func(d map[string]any) {
			gfTargets(gfPanelByTitle(t, d, "Coverage left"))[0]["datasource"] = map[string]any{"type": "prometheus", "uid": "prod-prometheus"}
		}},
		{"panel without datasource", "datasource <nil>", func(d map[string]any) { delete(gfPanelByTitle(t, d, "Reloads"), "datasource") }},
		{"no datasource variable", "no template variable datasource", func(d map[string]any) {
			tl := d["templating"].(map[string]any)
			tl["list"] = slices.DeleteFunc(tl["list"].([]any), func(v any) bool { return v.(map[string]any)["type"] == "datasource" })
		}},
		{"datasource variable for another source", "no template variable datasource", func(d map[string]any) {
			gfVariableByName(t, d, "datasource")["query"] = "loki"
		}},
		{"no zone variable", "no template variable zone", func(d map[string]any) { gfVariableByName(t, d, "zone")["name"] = "zones" }},
		{"undeclared variable", "$cluster is not a template variable", func(d map[string]any) {
			tg := gfTargets(gfPanelByTitle(t, d, "Signatures per second"))[0]
			tg["expr"] = strings.Replace(tg["expr"].(string), `zone=~"$zone"`, `zone=~"$zone", cluster="${cluster}"`, 1)
		}},
		{"target not filtered by zone", "does not filter by $zone", func(d map[string]any) {
			tg := gfTargets(gfPanelByTitle(t, d, "Signatures per second"))[0]
			tg["expr"] = strings.Replace(tg["expr"].(string), `zone=~"$zone", `, "", 1)
		}},
		{"no unit", "no unit", func(d map[string]any) {
			delete(gfPanelByTitle(t, d, "Cache hit ratios")["fieldConfig"].(map[string]any)["defaults"].(map[string]any), "unit")
		}},
		{"no description", "no description", func(d map[string]any) { gfPanelByTitle(t, d, "Gate refusals")["description"] = " " }},
		{"coverage thresholds off the alerts", "coverage thresholds", func(d map[string]any) {
			steps := gfPanelByTitle(t, d, "Coverage left")["fieldConfig"].(map[string]any)["defaults"].(map[string]any)["thresholds"].(map[string]any)["steps"].([]any)
			steps[2].(map[string]any)["value"] = 7 * 86400
		}},
		{"coverage table column off the alerts", `"Per-replica state": coverage thresholds`, func(d map[string]any) {
			for _, o := range gfPanelByTitle(t, d, "Per-replica state")["fieldConfig"].(map[string]any)["overrides"].([]any) {
				for _, pr := range o.(map[string]any)["properties"].([]any) {
					if pr := pr.(map[string]any); pr["id"] == "thresholds" {
						pr["value"] = map[string]any{"mode": "absolute", "steps": []any{map[string]any{"color": "green", "value": nil}}}
					}
				}
			}
		}},
	} {
		broken := []byte("{\"panels\": [")
		if c.edit != nil {
			broken = gfMutate(t, b, c.edit)
		}
		problems := dashboardProblems(broken, warn, crit)
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, c.want) }) {
			t.Errorf("negative control %q: no problem mentions %q; got %q", c.name, c.want, problems)
		}
	}
}

// TestDeployGrafanaMetricNames: every metric the dashboard queries (panel targets and variable
// queries) exists, as for the alert rules (liveMetricCatalog: declared in metrics.go or exported
// by a running CoreDNS with livesign, or external), and every metric livesign declares has a
// panel. A dashboard querying a misspelt metric, in a panel or a variable, is reported.
func TestDeployGrafanaMetricNames(t *testing.T) {
	b, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	d, err := parseDashboard(b)
	if err != nil {
		t.Fatal(err)
	}
	catalog := liveMetricCatalog(t)
	used := gfMetricNames(d)
	if len(used) < 10 {
		t.Fatalf("found only %v in the dashboard: the expression parser is broken", slices.Sorted(mapKeys(used)))
	}
	for _, bad := range catalog.unknown(used) {
		t.Errorf("the dashboard queries a metric that livesign and CoreDNS do not export: %s", bad)
	}
	for n := range catalog.declared {
		if _, ok := used[n]; !ok {
			t.Errorf("livesign declares %s (metrics.go) but no dashboard panel shows it", n)
		}
	}
	t.Logf("metrics used by the dashboard: %v", slices.Sorted(mapKeys(used)))

	// Negative controls: a misspelt metric in a panel and in the zone variable are reported.
	for _, c := range []struct {
		name, want string
		edit       func(d map[string]any)
	}{
		{"panel", "coredns_livesign_signing_failure_total (used by [panel", func(d map[string]any) {
			tg := gfTargets(gfPanelByTitle(t, d, "Signing failures"))[0]
			tg["expr"] = strings.ReplaceAll(tg["expr"].(string), "signing_failures_total", "signing_failure_total")
		}},
		{"variable", "coredns_livesign_bundle_expiry_seconds (used by [variable zone])", func(d map[string]any) {
			gfVariableByName(t, d, "zone")["query"] = map[string]any{"query": "label_values(coredns_livesign_bundle_expiry_seconds, zone)", "refId": "A"}
		}},
	} {
		bd, err := parseDashboard(gfMutate(t, b, c.edit))
		if err != nil {
			t.Fatal(err)
		}
		bad := catalog.unknown(gfMetricNames(bd))
		if len(bad) != 1 || !strings.HasPrefix(bad[0], c.want) {
			t.Errorf("negative control: a misspelt metric in a %s: reported %q, want one line starting %q", c.name, bad, c.want)
		}
	}
}

// TestDeployGrafanaPromQL: promtool parses every expression of the dashboard (variables replaced
// as Grafana would) as the expr of a recording rule; a copy with a broken expression fails.
func TestDeployGrafanaPromQL(t *testing.T) {
	t.Parallel()
	promtool := validators.Require(t, "promtool")
	b, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	d, err := parseDashboard(b)
	if err != nil {
		t.Fatal(err)
	}
	// check writes exprs as recording rules (JSON, which YAML reads) and runs promtool on them.
	check := func(exprs []gfExpr) (string, error) {
		var rules []map[string]string
		for i, e := range exprs {
			rules = append(rules, map[string]string{"record": fmt.Sprintf("livesign_dashboard:expr_%d", i), "expr": gfInterpolate(e.expr)})
		}
		doc, err := json.MarshalIndent(map[string]any{"groups": []any{map[string]any{"name": "livesign-dashboard", "rules": rules}}}, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "dashboard-exprs.yml")
		if err := os.WriteFile(path, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
		return string(out), err
	}
	exprs := d.exprs()
	if len(exprs) < 20 {
		t.Fatalf("only %d expressions in the dashboard", len(exprs))
	}
	if out, err := check(exprs); err != nil || !strings.Contains(out, "SUCCESS: "+strconv.Itoa(len(exprs))+" rules found") {
		for i, e := range exprs {
			t.Logf("expr_%d: %s: %s", i, e.where, gfInterpolate(e.expr))
		}
		t.Fatalf("promtool check rules on the dashboard's expressions: %v\n%s", err, out)
	}

	// Negative control: an unbalanced parenthesis, and a variable used where PromQL wants a
	// duration but given a label value, are refused.
	for _, broken := range []string{
		`sum by (zone) (rate(coredns_livesign_signatures_total{zone=~"$zone"}[$__rate_interval])`,
		`rate(coredns_livesign_signatures_total{zone=~"$zone"}[$zone])`,
	} {
		if out, err := check(append(slices.Clip(exprs), gfExpr{"broken", broken})); err == nil {
			t.Errorf("promtool accepted %s:\n%s", broken, out)
		}
	}
}
