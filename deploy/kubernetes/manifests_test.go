// Package kubernetes_test checks the manifests of this directory: every document decodes strictly
// (unknown or misspelt fields fail) into its Kubernetes API type, and together they describe what
// the README promises: 3 replicas behind a DNS Service, readiness from livesign through the ready
// plugin, liveness from health, a locked-down pod, keys from a Secret, the Corefile, zone, bundle
// and trust anchor from a ConfigMap, a PodDisruptionBudget, and Prometheus scrape annotations.
package kubernetes_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// manifests holds one object of each kind found in the directory.
type manifests struct {
	ns  *corev1.Namespace
	sec *corev1.Secret
	cm  *corev1.ConfigMap
	dep *appsv1.Deployment
	svc *corev1.Service
	pdb *policyv1.PodDisruptionBudget
}

// splitDocs splits a YAML stream at its "---" separator lines and drops empty documents.
func splitDocs(b []byte) [][]byte {
	var docs [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---[ \t]*$`).Split(string(b), -1) {
		if strings.TrimSpace(stripComments(d)) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// load decodes every document of every *.yaml/*.yml here, strictly, into the type of its kind.
func load(t *testing.T) manifests {
	t.Helper()
	files, _ := filepath.Glob("*.y*ml")
	if len(files) == 0 {
		t.Fatal("no manifests in deploy/kubernetes")
	}
	var m manifests
	seen := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range splitDocs(b) {
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal(doc, &tm); err != nil {
				t.Fatalf("%s document %d: %v", f, i+1, err)
			}
			var obj any
			switch tm.APIVersion + " " + tm.Kind {
			case "v1 Namespace":
				m.ns = &corev1.Namespace{}
				obj = m.ns
			case "v1 Secret":
				m.sec = &corev1.Secret{}
				obj = m.sec
			case "v1 ConfigMap":
				m.cm = &corev1.ConfigMap{}
				obj = m.cm
			case "apps/v1 Deployment":
				m.dep = &appsv1.Deployment{}
				obj = m.dep
			case "v1 Service":
				m.svc = &corev1.Service{}
				obj = m.svc
			case "policy/v1 PodDisruptionBudget":
				m.pdb = &policyv1.PodDisruptionBudget{}
				obj = m.pdb
			default:
				t.Fatalf("%s document %d: unexpected %q %q", f, i+1, tm.APIVersion, tm.Kind)
			}
			if prev, dup := seen[tm.Kind]; dup {
				t.Fatalf("%s: a second %s (first in %s)", f, tm.Kind, prev)
			}
			seen[tm.Kind] = f
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				t.Fatalf("%s: %s does not decode strictly: %v", f, tm.Kind, err)
			}
		}
	}
	for kind, ok := range map[string]bool{"Namespace": m.ns != nil, "Secret": m.sec != nil, "ConfigMap": m.cm != nil,
		"Deployment": m.dep != nil, "Service": m.svc != nil, "PodDisruptionBudget": m.pdb != nil} {
		if !ok {
			t.Errorf("no %s among %v", kind, files)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return m
}

func TestStrictDecodingRejectsUnknownFields(t *testing.T) {
	// The decoder this test relies on must refuse a misspelt field, or the checks below prove
	// nothing about typos.
	doc := []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replica: 3\n")
	if err := yaml.UnmarshalStrict(doc, &appsv1.Deployment{}); err == nil {
		t.Fatal("UnmarshalStrict accepted spec.replica")
	}
}

func TestManifests(t *testing.T) {
	m := load(t)
	objs := []*metav1.ObjectMeta{&m.sec.ObjectMeta, &m.cm.ObjectMeta, &m.dep.ObjectMeta, &m.svc.ObjectMeta, &m.pdb.ObjectMeta}
	for _, o := range append(objs, &m.ns.ObjectMeta) {
		for _, msg := range validation.IsDNS1123Label(o.Name) {
			t.Errorf("name %q: %s", o.Name, msg)
		}
	}
	for _, o := range objs {
		if o.Namespace != m.ns.Name {
			t.Errorf("%s is in namespace %q, want %q", o.Name, o.Namespace, m.ns.Name)
		}
	}
	if got := m.ns.Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
		t.Errorf("namespace pod-security enforce = %q, want restricted", got)
	}

	// Deployment: 3 replicas; the selector picks the template, the Service and the PDB pick it.
	dep := m.dep
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 3 {
		t.Errorf("replicas = %v, want 3", dep.Spec.Replicas)
	}
	sel, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
	if err != nil || sel.Empty() {
		t.Fatalf("deployment selector %v: %v", dep.Spec.Selector, err)
	}
	podLabels := labels.Set(dep.Spec.Template.Labels)
	if !sel.Matches(podLabels) {
		t.Errorf("deployment selector %v does not match its pod labels %v", sel, podLabels)
	}
	if !labels.SelectorFromSet(m.svc.Spec.Selector).Matches(podLabels) || len(m.svc.Spec.Selector) == 0 {
		t.Errorf("service selector %v does not match the pods %v", m.svc.Spec.Selector, podLabels)
	}
	pdbSel, err := metav1.LabelSelectorAsSelector(m.pdb.Spec.Selector)
	if err != nil || pdbSel.Empty() || !pdbSel.Matches(podLabels) {
		t.Errorf("PDB selector %v does not match the pods %v (%v)", m.pdb.Spec.Selector, podLabels, err)
	}
	if mi := m.pdb.Spec.MinAvailable; mi == nil || mi.IntValue() < 1 || mi.IntValue() >= int(*dep.Spec.Replicas) {
		t.Errorf("PDB minAvailable = %v, want between 1 and replicas-1", mi)
	}

	pod := dep.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]

	// Scrape annotations (no ServiceMonitor) naming the metrics port.
	ann := dep.Spec.Template.Annotations
	if ann["prometheus.io/scrape"] != "true" {
		t.Errorf("pod annotation prometheus.io/scrape = %q, want \"true\"", ann["prometheus.io/scrape"])
	}
	ports := map[string]corev1.ContainerPort{}
	for _, p := range c.Ports {
		ports[p.Name] = p
	}
	if p, ok := ports["metrics"]; !ok || strconv.Itoa(int(p.ContainerPort)) != ann["prometheus.io/port"] {
		t.Errorf("prometheus.io/port = %q, metrics port %v", ann["prometheus.io/port"], p)
	}

	// DNS on 53 UDP and TCP, container and Service.
	if p := ports["dns"]; p.ContainerPort != 53 || p.Protocol != corev1.ProtocolUDP {
		t.Errorf("container port dns = %+v, want 53/UDP", p)
	}
	if p := ports["dns-tcp"]; p.ContainerPort != 53 || p.Protocol != corev1.ProtocolTCP {
		t.Errorf("container port dns-tcp = %+v, want 53/TCP", p)
	}
	protos := map[corev1.Protocol]bool{}
	for _, sp := range m.svc.Spec.Ports {
		if sp.Port != 53 {
			t.Errorf("service port %+v: want 53", sp)
		}
		if _, ok := ports[sp.TargetPort.String()]; !ok {
			t.Errorf("service port %s targets %q, not a container port name", sp.Name, sp.TargetPort.String())
		} else if ports[sp.TargetPort.String()].Protocol != sp.Protocol {
			t.Errorf("service port %s is %s, its target %s", sp.Name, sp.Protocol, ports[sp.TargetPort.String()].Protocol)
		}
		protos[sp.Protocol] = true
	}
	if !protos[corev1.ProtocolUDP] || !protos[corev1.ProtocolTCP] || len(m.svc.Spec.Ports) != 2 {
		t.Errorf("service ports %+v: want 53/UDP and 53/TCP", m.svc.Spec.Ports)
	}

	// Probes: readiness on the ready plugin (livesign's Ready), liveness on health.
	probe := func(name string, p *corev1.Probe, path string, port int32) {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("%s probe: want an httpGet probe", name)
			return
		}
		got := p.HTTPGet.Port.IntValue()
		if p.HTTPGet.Port.StrVal != "" {
			got = int(ports[p.HTTPGet.Port.StrVal].ContainerPort)
		}
		if p.HTTPGet.Path != path || got != int(port) {
			t.Errorf("%s probe: %s on port %d, want %s on %d", name, p.HTTPGet.Path, got, path, port)
		}
	}
	probe("readiness", c.ReadinessProbe, "/ready", 8181)
	probe("liveness", c.LivenessProbe, "/health", 8080)

	// Resources: requests and limits for CPU and memory, requests <= limits.
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okReq := c.Resources.Requests[r]
		lim, okLim := c.Resources.Limits[r]
		if !okReq || !okLim || req.IsZero() || req.Cmp(lim) > 0 {
			t.Errorf("resources %s: request %v, limit %v: want both, request <= limit", r, req.String(), lim.String())
		}
	}

	// Locked down: non-root, read-only root, no escalation, capabilities ALL dropped but
	// NET_BIND_SERVICE, RuntimeDefault seccomp.
	psc, csc := pod.SecurityContext, c.SecurityContext
	if psc == nil || csc == nil {
		t.Fatal("pod and container need a securityContext")
	}
	if psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("pod runAsNonRoot %v runAsUser %v: want a non-root uid", psc.RunAsNonRoot, psc.RunAsUser)
	}
	if psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod seccompProfile %+v, want RuntimeDefault", psc.SeccompProfile)
	}
	if csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem {
		t.Error("readOnlyRootFilesystem must be true")
	}
	if csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation must be false")
	}
	if csc.Privileged != nil && *csc.Privileged {
		t.Error("privileged container")
	}
	if csc.Capabilities == nil || !slices.Equal(csc.Capabilities.Drop, []corev1.Capability{"ALL"}) ||
		!slices.Equal(csc.Capabilities.Add, []corev1.Capability{"NET_BIND_SERVICE"}) {
		t.Errorf("capabilities %+v: want drop [ALL], add [NET_BIND_SERVICE]", csc.Capabilities)
	}
	if pod.HostNetwork {
		t.Error("hostNetwork")
	}

	// The image's user is the pod's user (../../Dockerfile: USER uid:gid).
	df, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	mu := regexp.MustCompile(`(?m)^USER (\d+):(\d+)\s*$`).FindSubmatch(df)
	if mu == nil {
		t.Fatal("Dockerfile: no numeric USER uid:gid line")
	}
	if strconv.FormatInt(*psc.RunAsUser, 10) != string(mu[1]) {
		t.Errorf("pod runAsUser %d, Dockerfile USER %s", *psc.RunAsUser, mu[1])
	}
	if !slices.Equal(c.Args, []string{"-conf", "/etc/coredns/Corefile"}) || len(c.Command) != 0 {
		t.Errorf("container command %v args %v: want the image's entrypoint with -conf /etc/coredns/Corefile", c.Command, c.Args)
	}
}

// TestConfigAndKeys: the Corefile names files that the ConfigMap and Secret volumes really
// provide, at the paths they are mounted at; probe and metrics ports match the Corefile; the key
// files keep their BIND names and a mode livesign accepts.
func TestConfigAndKeys(t *testing.T) {
	m := load(t)
	pod := m.dep.Spec.Template.Spec
	c := pod.Containers[0]
	corefile, ok := m.cm.Data["Corefile"]
	if !ok {
		t.Fatal("ConfigMap has no Corefile")
	}
	for k := range m.cm.Data {
		for _, msg := range validation.IsConfigMapKey(k) {
			t.Errorf("ConfigMap key %q: %s", k, msg)
		}
	}
	for k := range m.sec.StringData {
		for _, msg := range validation.IsConfigMapKey(k) {
			t.Errorf("Secret key %q: %s", k, msg)
		}
	}
	if len(m.sec.Data) != 0 {
		t.Errorf("Secret: placeholder data belongs in stringData, found data %v", m.sec.Data)
	}

	// Volumes and where they are mounted.
	mounts := map[string]corev1.VolumeMount{}
	for _, vm := range c.VolumeMounts {
		mounts[vm.Name] = vm
		if !vm.ReadOnly {
			t.Errorf("volume %s mounted read-write", vm.Name)
		}
	}
	var cmMount, keyMount string
	var keyVol *corev1.SecretVolumeSource
	for _, v := range pod.Volumes {
		vm, ok := mounts[v.Name]
		if !ok {
			t.Errorf("volume %s is not mounted", v.Name)
			continue
		}
		switch {
		case v.ConfigMap != nil && v.ConfigMap.Name == m.cm.Name:
			cmMount = vm.MountPath
		case v.Secret != nil && v.Secret.SecretName == m.sec.Name:
			keyMount, keyVol = vm.MountPath, v.Secret
		default:
			t.Errorf("volume %s is neither the ConfigMap %s nor the Secret %s", v.Name, m.cm.Name, m.sec.Name)
		}
	}
	if cmMount == "" || keyVol == nil {
		t.Fatalf("ConfigMap mounted at %q, Secret %v", cmMount, keyVol)
	}

	// Every path in the Corefile's livesign and file directives is provided.
	directive := func(name string) []string {
		var vals []string
		for _, l := range strings.Split(corefile, "\n") {
			f := strings.Fields(l)
			if len(f) >= 2 && f[0] == name {
				vals = append(vals, f[1])
			}
		}
		return vals
	}
	for _, d := range []string{"file", "bundle", "trust-anchor"} {
		vals := directive(d)
		if len(vals) != 1 {
			t.Errorf("Corefile: %d %s directives, want 1", len(vals), d)
			continue
		}
		dir, base := filepath.Split(vals[0])
		if filepath.Clean(dir) != cmMount {
			t.Errorf("Corefile %s %s: not in the ConfigMap's mount %s", d, vals[0], cmMount)
		} else if _, ok := m.cm.Data[base]; !ok {
			t.Errorf("Corefile %s %s: the ConfigMap has no key %q", d, vals[0], base)
		}
	}
	if k := directive("keys"); len(k) != 1 || k[0] != keyMount {
		t.Errorf("Corefile keys %v, the Secret is mounted at %s", k, keyMount)
	}
	if !strings.HasSuffix(c.Args[len(c.Args)-1], "/Corefile") || filepath.Dir(c.Args[len(c.Args)-1]) != cmMount {
		t.Errorf("args %v: the Corefile is at %s/Corefile", c.Args, cmMount)
	}

	// Ports of the Corefile's ready, health and prometheus = the probes' and the annotation's.
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for d, want := range map[string]int32{"ready": ports["ready"], "health": ports["health"], "prometheus": ports["metrics"]} {
		vals := directive(d)
		if len(vals) != 1 || vals[0] != ":"+strconv.Itoa(int(want)) {
			t.Errorf("Corefile %s %v, container port %d", d, vals, want)
		}
	}
	if !regexp.MustCompile(`(?m)^\S+:53 \{`).MatchString(corefile) {
		t.Error("Corefile: the server block does not listen on :53")
	}

	// Secret items: every key mapped once to its BIND name, tag and kind agreeing, .key and
	// .private in pairs; the mode gives nothing to others and no write to anyone.
	bindName := regexp.MustCompile(`^K(.+)\+(\d{3})\+(\d{5})\.(key|private)$`)
	dataKey := regexp.MustCompile(`^zsk-(\d+)\.(key|private)$`)
	mapped := map[string]bool{}
	pairs := map[string]int{}
	for _, it := range keyVol.Items {
		mb, md := bindName.FindStringSubmatch(it.Path), dataKey.FindStringSubmatch(it.Key)
		if mb == nil || md == nil {
			t.Errorf("item %s -> %s: want zsk-<tag>.{key,private} -> K<zone>+<alg>+<tag>.{key,private}", it.Key, it.Path)
			continue
		}
		tag, _ := strconv.Atoi(mb[3])
		if strconv.Itoa(tag) != md[1] || mb[4] != md[2] {
			t.Errorf("item %s -> %s: tag or kind differ", it.Key, it.Path)
		}
		if _, ok := m.sec.StringData[it.Key]; !ok {
			t.Errorf("item %s: not in the Secret", it.Key)
		}
		if mapped[it.Key] {
			t.Errorf("item %s mapped twice", it.Key)
		}
		mapped[it.Key] = true
		pairs[mb[1]+"+"+mb[2]+"+"+mb[3]] += map[string]int{"key": 1, "private": 2}[mb[4]]
	}
	for k := range m.sec.StringData {
		if !mapped[k] {
			t.Errorf("Secret key %s is not mapped by the Deployment's items: the pods would not see it", k)
		}
	}
	for k, v := range pairs {
		if v != 3 {
			t.Errorf("key %s: want both .key and .private", k)
		}
	}
	if len(pairs) == 0 {
		t.Error("no ZSK in the Secret")
	}
	if keyVol.DefaultMode == nil || *keyVol.DefaultMode&0o037 != 0 {
		t.Errorf("Secret defaultMode %#o: want no group write and nothing for others (e.g. 0400)", deref(keyVol.DefaultMode))
	}
	if psc := pod.SecurityContext; psc.FSGroup == nil || psc.RunAsGroup == nil || *psc.FSGroup != *psc.RunAsGroup {
		t.Errorf("fsGroup %v runAsGroup %v: the Secret's files are readable by the pod's user only through fsGroup = runAsGroup", psc.FSGroup, psc.RunAsGroup)
	}
	if !bytes.Contains([]byte(m.sec.StringData[firstPrivate(m.sec.StringData)]), []byte("PLACEHOLDER")) {
		t.Error("the Secret in the repository must hold placeholders, never a real private key")
	}
}

func firstPrivate(data map[string]string) string {
	for k := range data {
		if strings.HasSuffix(k, ".private") {
			return k
		}
	}
	return ""
}

func deref(p *int32) int32 {
	if p == nil {
		return -1
	}
	return *p
}
