// Renders the Helm chart deploy/helm/longhaul with `helm template` for every
// values file in values/ (and the chart's defaults), runs `helm lint` on
// each, and decodes every rendered object strictly into its Kubernetes API
// type: an unknown or misspelt field, a wrong type or a duplicate key fails.
// No cluster is needed. Run by scripts/test-helm (CTest helm_chart).
package helm

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

const chartDir = "../../deploy/helm/longhaul"

func helmBinary(t *testing.T) string {
	if h := os.Getenv("LONGHAUL_HELM"); h != "" {
		return h
	}
	h, err := exec.LookPath("helm")
	if err != nil {
		t.Fatalf("no helm: set LONGHAUL_HELM or put helm on PATH (scripts/setup installs it)")
	}
	return h
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

// A rendered object, decoded.
type object struct {
	source string // "# Source: longhaul/templates/x.yaml"
	kind   string
	name   string
	value  any
}

func newObject(apiVersion, kind string) (any, error) {
	switch apiVersion + "/" + kind {
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1/Secret":
		return &corev1.Secret{}, nil
	case "v1/Service":
		return &corev1.Service{}, nil
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}, nil
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, nil
	case "monitoring.coreos.com/v1/ServiceMonitor":
		return &monitoringv1.ServiceMonitor{}, nil
	case "monitoring.coreos.com/v1/PrometheusRule":
		return &monitoringv1.PrometheusRule{}, nil
	}
	return nil, fmt.Errorf("no API type known for apiVersion %q kind %q", apiVersion, kind)
}

func render(t *testing.T, valuesFile string) []object {
	t.Helper()
	args := []string{"template", "rel", chartDir, "--namespace", "replication"}
	lintArgs := []string{"lint", "--strict", chartDir}
	if valuesFile != "" {
		args = append(args, "-f", valuesFile)
		lintArgs = append(lintArgs, "-f", valuesFile)
	}
	helm := helmBinary(t)
	run(t, helm, lintArgs...)
	out := run(t, helm, args...)
	var objects []object
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(out, -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		source := ""
		if m := regexp.MustCompile(`(?m)^# Source: (.*)$`).FindStringSubmatch(doc); m != nil {
			source = m[1]
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("%s: not YAML: %v", source, err)
		}
		if head.Kind == "" {
			continue // a template that rendered only comments
		}
		value, err := newObject(head.APIVersion, head.Kind)
		if err != nil {
			t.Fatalf("%s: %v", source, err)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), value); err != nil {
			t.Fatalf("%s (%s %s): does not decode strictly into its API type: %v", source, head.Kind, head.Metadata.Name, err)
		}
		objects = append(objects, object{source, head.Kind, head.Metadata.Name, value})
	}
	return objects
}

func find[T any](objects []object, kind, name string) *T {
	for _, o := range objects {
		if o.kind == kind && o.name == name {
			if v, ok := o.value.(*T); ok {
				return v
			}
		}
	}
	return nil
}

func kinds(objects []object) []string {
	var out []string
	for _, o := range objects {
		out = append(out, o.kind+"/"+o.name)
	}
	sort.Strings(out)
	return out
}

// What every Deployment must have, whatever the values.
func checkDeployment(t *testing.T, d *appsv1.Deployment, role string, drainSeconds int64) {
	t.Helper()
	spec := d.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", d.Name, len(spec.Containers))
	}
	c := spec.Containers[0]
	args := strings.Join(c.Args, " ")
	if !strings.Contains(args, "run -c /etc/longhaul/longhaul.yaml --role "+role) {
		t.Errorf("%s: args %q do not run role %s with the mounted config", d.Name, args, role)
	}
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/livez" {
		t.Errorf("%s: liveness probe is not GET /livez: %+v", d.Name, c.LivenessProbe)
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("%s: readiness probe is not GET /readyz: %+v", d.Name, c.ReadinessProbe)
	}
	if spec.SecurityContext == nil || spec.SecurityContext.RunAsNonRoot == nil || !*spec.SecurityContext.RunAsNonRoot {
		t.Errorf("%s: pod may run as root", d.Name)
	}
	if c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem {
		t.Errorf("%s: root filesystem is writable", d.Name)
	}
	if c.Resources.Requests.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
		t.Errorf("%s: no CPU or memory request", d.Name)
	}
	if spec.TerminationGracePeriodSeconds == nil || *spec.TerminationGracePeriodSeconds < drainSeconds+2 {
		t.Errorf("%s: terminationGracePeriodSeconds %v leaves no time for a %d s drain", d.Name,
			spec.TerminationGracePeriodSeconds, drainSeconds)
	}
}

// The config file the pods read, parsed.
func configOf(t *testing.T, objects []object) map[string]any {
	t.Helper()
	cm := find[corev1.ConfigMap](objects, "ConfigMap", "rel-longhaul-config")
	if cm == nil {
		t.Fatalf("no ConfigMap rel-longhaul-config among %v", kinds(objects))
	}
	var config map[string]any
	if err := yaml.UnmarshalStrict([]byte(cm.Data["longhaul.yaml"]), &config); err != nil {
		t.Fatalf("longhaul.yaml in the ConfigMap: %v", err)
	}
	return config
}

func alertNames(t *testing.T, groups []monitoringv1.RuleGroup) []string {
	var names []string
	for _, g := range groups {
		for _, r := range g.Rules {
			names = append(names, r.Alert)
		}
	}
	sort.Strings(names)
	return names
}

func TestDefaults(t *testing.T) {
	objects := render(t, "")
	d := find[appsv1.Deployment](objects, "Deployment", "rel-longhaul-worker")
	if d == nil {
		t.Fatalf("no worker Deployment among %v", kinds(objects))
	}
	checkDeployment(t, d, "all", 30)
	if find[appsv1.Deployment](objects, "Deployment", "rel-longhaul-hub") != nil {
		t.Errorf("hubs are rendered although hubs.enabled is false")
	}
	config := configOf(t, objects)
	if got := config["worker"].(map[string]any)["drain_timeout"]; got != "30s" {
		t.Errorf("worker.drain_timeout = %v, want 30s from drainTimeoutSeconds", got)
	}
}

func TestDirectPipelineWithStandbysAndMonitoring(t *testing.T) {
	objects := render(t, "values/direct.yaml")
	d := find[appsv1.Deployment](objects, "Deployment", "rel-longhaul-worker")
	if d == nil {
		t.Fatalf("no worker Deployment among %v", kinds(objects))
	}
	checkDeployment(t, d, "all", 20)
	if *d.Spec.Replicas != 3 {
		t.Errorf("replicas = %d, want 3", *d.Spec.Replicas)
	}
	s := find[corev1.Secret](objects, "Secret", "rel-longhaul-secrets")
	if s == nil || string(s.Data["dc-password"]) != "not-a-real-password" {
		t.Fatalf("the secret value is not in Secret rel-longhaul-secrets: %+v", s)
	}
	mounted := false
	for _, m := range d.Spec.Template.Spec.Containers[0].VolumeMounts {
		mounted = mounted || (m.Name == "secrets" && m.MountPath == "/run/secrets/longhaul" && m.ReadOnly)
	}
	if !mounted {
		t.Errorf("the secrets are not mounted read-only at /run/secrets/longhaul (the config's ${file:...})")
	}
	sm := find[monitoringv1.ServiceMonitor](objects, "ServiceMonitor", "rel-longhaul")
	if sm == nil || sm.Labels["release"] != "prometheus" || len(sm.Spec.Endpoints) != 1 ||
		sm.Spec.Endpoints[0].Port != "admin" {
		t.Fatalf("ServiceMonitor missing or not scraping port admin with the given labels: %+v", sm)
	}
	// The rule file is deploy/prometheus/alerts.yaml, not a copy that drifts.
	pr := find[monitoringv1.PrometheusRule](objects, "PrometheusRule", "rel-longhaul")
	if pr == nil {
		t.Fatalf("no PrometheusRule among %v", kinds(objects))
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "prometheus", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var source monitoringv1.PrometheusRuleSpec
	if err := yaml.UnmarshalStrict(raw, &source); err != nil {
		t.Fatalf("deploy/prometheus/alerts.yaml: %v", err)
	}
	want, got := alertNames(t, source.Groups), alertNames(t, pr.Spec.Groups)
	if len(want) == 0 || strings.Join(want, ",") != strings.Join(got, ",") {
		t.Errorf("PrometheusRule alerts %v differ from deploy/prometheus/alerts.yaml %v", got, want)
	}
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			if r.Expr.String() == "" {
				t.Errorf("alert %s has no expression", r.Alert)
			}
		}
	}
	metrics := find[corev1.Service](objects, "Service", "rel-longhaul-metrics")
	if metrics == nil || metrics.Spec.ClusterIP != "None" {
		t.Errorf("no headless metrics Service: %+v", metrics)
	}
}

func TestEdgesAndHubsWithLinkCertificates(t *testing.T) {
	objects := render(t, "values/edge-hub.yaml")
	worker := find[appsv1.Deployment](objects, "Deployment", "rel-longhaul-worker")
	hub := find[appsv1.Deployment](objects, "Deployment", "rel-longhaul-hub")
	if worker == nil || hub == nil {
		t.Fatalf("want worker and hub Deployments, got %v", kinds(objects))
	}
	checkDeployment(t, worker, "edge", 30)
	checkDeployment(t, hub, "hub", 30)
	// One edge and one hub process per pipeline: never two during a rollout.
	for _, d := range []*appsv1.Deployment{worker, hub} {
		if *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
			t.Errorf("%s: replicas %d, strategy %s; want 1 and Recreate", d.Name, *d.Spec.Replicas, d.Spec.Strategy.Type)
		}
	}
	svc := find[corev1.Service](objects, "Service", "rel-longhaul-hub")
	if svc == nil || svc.Spec.Type != corev1.ServiceTypeLoadBalancer || svc.Spec.Ports[0].Port != 443 ||
		svc.Spec.Ports[0].TargetPort.StrVal != "link" {
		t.Fatalf("hub Service is not a LoadBalancer on 443 to the link port: %+v", svc)
	}
	if svc.Spec.Selector["app.kubernetes.io/component"] != "hub" {
		t.Errorf("hub Service selects %v, not the hubs", svc.Spec.Selector)
	}
	linkPort := int32(0)
	for _, p := range hub.Spec.Template.Spec.Containers[0].Ports {
		if p.Name == "link" {
			linkPort = p.ContainerPort
		}
	}
	if linkPort != 8443 {
		t.Errorf("hub link port %d, want 8443 (links.uplink.hub.listen)", linkPort)
	}
	tls := find[corev1.Secret](objects, "Secret", "rel-longhaul-tls")
	if tls == nil || tls.Type != corev1.SecretTypeTLS || len(tls.Data["ca.pem"]) == 0 || len(tls.Data["tls.key"]) == 0 {
		t.Fatalf("no kubernetes.io/tls Secret with ca.pem, tls.crt, tls.key: %+v", tls)
	}
}

// A fleet: every pipeline via the link is edges: many, so several hubs
// share the lanes and are rolled one at a time.
func TestSeveralHubsForEdgesManyPipelines(t *testing.T) {
	objects := render(t, "values/hubs-many.yaml")
	hub := find[appsv1.Deployment](objects, "Deployment", "rel-longhaul-hub")
	if hub == nil {
		t.Fatalf("want a hub Deployment, got %v", kinds(objects))
	}
	if find[appsv1.Deployment](objects, "Deployment", "rel-longhaul-worker") != nil {
		t.Errorf("a worker Deployment rendered although workers.enabled is false")
	}
	checkDeployment(t, hub, "hub", 30)
	if *hub.Spec.Replicas != 3 {
		t.Errorf("hub replicas %d, want 3", *hub.Spec.Replicas)
	}
	ru := hub.Spec.Strategy.RollingUpdate
	if hub.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru == nil || ru.MaxSurge.IntValue() != 0 ||
		ru.MaxUnavailable.IntValue() != 1 {
		t.Errorf("hub strategy %+v; want RollingUpdate, one hub at a time, no surge", hub.Spec.Strategy)
	}
}

// Values the chart must refuse, with a message that says why.
func TestRefusesTwoHubsForAnEdgesOnePipelineOrTwoEdges(t *testing.T) {
	helm := helmBinary(t)
	for _, c := range []struct{ values, set, want string }{
		// values/edge-hub.yaml's pipeline is edges: one (the default).
		{"values/edge-hub.yaml", "hubs.replicas=2", "pipeline site-to-cloud runs via a link with edges: one"},
		{"values/hubs-many.yaml", "config.pipelines.fleet-logs.edges=one", "pipeline fleet-logs runs via a link with edges: one"},
		{"values/hubs-many.yaml", "hubs.replicas=0", "hubs.replicas must be at least 1"},
		{"", "workers.role=edge,workers.replicas=2", "workers.replicas must be 1 with role edge"},
		{"", "workers.role=hub", "workers.role must be all or edge"},
	} {
		args := []string{"template", "rel", chartDir, "--set", c.set}
		if c.values != "" {
			args = append(args, "-f", c.values)
		}
		out, err := exec.Command(helm, args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("%s --set %s: want a failure saying %q, got err=%v\n%s", c.values, c.set, c.want, err, out)
		}
	}
}

func TestExistingSecretsAndNoOperator(t *testing.T) {
	objects := render(t, "values/existing-secrets.yaml")
	for _, o := range objects {
		if o.kind == "Secret" || o.kind == "ServiceMonitor" || o.kind == "PrometheusRule" || o.kind == "ServiceAccount" {
			t.Errorf("%s %s rendered although values say it exists or is off", o.kind, o.name)
		}
	}
	d := find[appsv1.Deployment](objects, "Deployment", "rel-longhaul-worker")
	if d == nil {
		t.Fatalf("no worker Deployment among %v", kinds(objects))
	}
	spec := d.Spec.Template.Spec
	if spec.ServiceAccountName != "kafka-clients" {
		t.Errorf("serviceAccountName %q, want kafka-clients", spec.ServiceAccountName)
	}
	if spec.Containers[0].Image != "registry.example.net/longhaul:0.1.0" {
		t.Errorf("image %q", spec.Containers[0].Image)
	}
	secrets := map[string]string{}
	for _, v := range spec.Volumes {
		if v.Secret != nil {
			secrets[v.Name] = v.Secret.SecretName
		}
	}
	if secrets["secrets"] != "longhaul-kafka" || secrets["tls"] != "longhaul-link-tls" {
		t.Errorf("volumes do not use the existing Secrets: %v", secrets)
	}
}
