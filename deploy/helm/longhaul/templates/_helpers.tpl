{{- define "longhaul.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "longhaul.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "longhaul.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "longhaul.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "longhaul.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "longhaul.secretName" -}}
{{- default (printf "%s-secrets" (include "longhaul.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "longhaul.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "longhaul.fullname" .)) .Values.tls.existingSecret -}}
{{- end -}}

{{- define "longhaul.tlsEnabled" -}}
{{- if or .Values.tls.existingSecret .Values.tls.cert -}}true{{- end -}}
{{- end -}}

{{- define "longhaul.secretsEnabled" -}}
{{- if or .Values.secrets.existingSecret .Values.secrets.values -}}true{{- end -}}
{{- end -}}

{{/* The config file: the user's config with worker.drain_timeout from drainTimeoutSeconds. */}}
{{- define "longhaul.config" -}}
{{- $config := deepCopy .Values.config -}}
{{- $worker := default dict (get $config "worker") -}}
{{- $_ := set $worker "drain_timeout" (printf "%ds" (int .Values.drainTimeoutSeconds)) -}}
{{- $_ := set $config "worker" $worker -}}
{{- toYaml $config -}}
{{- end -}}

{{/* The largest lane count of the config's pipelines (8 when a pipeline does not say). */}}
{{- define "longhaul.maxLanes" -}}
{{- $max := 0 -}}
{{- range $name, $p := .Values.config.pipelines -}}
{{- $lanes := int (default 8 $p.lanes) -}}
{{- if gt $lanes $max -}}{{- $max = $lanes -}}{{- end -}}
{{- end -}}
{{- $max -}}
{{- end -}}

{{/* The pod spec shared by workers and hubs; call with (dict "root" $ "role" "all" "component" "worker" "values" .Values.workers). */}}
{{- define "longhaul.podTemplate" -}}
{{- $root := .root -}}
metadata:
  labels:
    {{- include "longhaul.selectorLabels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
  annotations:
    checksum/config: {{ include "longhaul.config" $root | sha256sum }}
    checksum/secrets: {{ toJson (list $root.Values.secrets.values $root.Values.tls) | sha256sum }}
    {{- with .values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "longhaul.serviceAccountName" $root }}
  automountServiceAccountToken: false
  # Drain: commit in-flight transactions and leave the lane group.
  terminationGracePeriodSeconds: {{ add (int $root.Values.drainTimeoutSeconds) 15 }}
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    runAsGroup: 10001
    fsGroup: 10001
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: longhaul
      image: "{{ $root.Values.image.repository }}:{{ default $root.Chart.AppVersion $root.Values.image.tag }}"
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      args: ["run", "-c", "/etc/longhaul/longhaul.yaml", "--role", {{ .role | quote }}, "--log-format", "json"]
      ports:
        - name: admin
          containerPort: 9464
          protocol: TCP
        {{- if eq .component "hub" }}
        - name: link
          containerPort: {{ $root.Values.hubs.port }}
          protocol: TCP
        {{- end }}
      # /livez answers without asking Kafka; /readyz once the pipelines have
      # their internal topics, joined their lane group and reach the target.
      livenessProbe:
        httpGet:
          path: /livez
          port: admin
        periodSeconds: 10
        timeoutSeconds: 5
        failureThreshold: 6
      readinessProbe:
        httpGet:
          path: /readyz
          port: admin
        periodSeconds: 10
        timeoutSeconds: 5
        failureThreshold: 3
      startupProbe:
        httpGet:
          path: /livez
          port: admin
        periodSeconds: 2
        failureThreshold: 30
      resources:
        {{- toYaml .values.resources | nindent 8 }}
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: ["ALL"]
      volumeMounts:
        - name: config
          mountPath: /etc/longhaul/longhaul.yaml
          subPath: longhaul.yaml
          readOnly: true
        {{- if include "longhaul.secretsEnabled" $root }}
        - name: secrets
          mountPath: /run/secrets/longhaul
          readOnly: true
        {{- end }}
        {{- if include "longhaul.tlsEnabled" $root }}
        - name: tls
          mountPath: /etc/longhaul/tls
          readOnly: true
        {{- end }}
  volumes:
    - name: config
      configMap:
        name: {{ include "longhaul.fullname" $root }}-config
    {{- if include "longhaul.secretsEnabled" $root }}
    - name: secrets
      secret:
        secretName: {{ include "longhaul.secretName" $root }}
        defaultMode: 0440
    {{- end }}
    {{- if include "longhaul.tlsEnabled" $root }}
    - name: tls
      secret:
        secretName: {{ include "longhaul.tlsSecretName" $root }}
        defaultMode: 0440
    {{- end }}
  {{- with .values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
