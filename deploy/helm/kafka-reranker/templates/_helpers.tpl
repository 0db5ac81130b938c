{{/* Names and labels. */}}
{{- define "kafka-reranker.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kafka-reranker.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "kafka-reranker.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kafka-reranker.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kafka-reranker.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kafka-reranker.labels" -}}
helm.sh/chart: {{ include "kafka-reranker.chart" . }}
{{ include "kafka-reranker.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: reranker
{{- end }}

{{/* The image: an explicit tag, else <appVersion>-gpu, <appVersion>-gpu-tensorrt or <appVersion>-cpu. */}}
{{- define "kafka-reranker.image" -}}
{{- $variant := ternary "gpu" "cpu" (.Values.gpu.enabled | default false) }}
{{- if and .Values.gpu.enabled .Values.gpu.tensorrt.enabled }}
{{- $variant = "gpu-tensorrt" }}
{{- end }}
{{- $tag := .Values.image.tag | default (printf "%s-%s" .Chart.AppVersion $variant) }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}

{{/* inference.device: explicit, else cuda on GPU pods and cpu elsewhere. */}}
{{- define "kafka-reranker.inferenceDevice" -}}
{{- .Values.config.inferenceDevice | default (ternary "cuda" "cpu" (.Values.gpu.enabled | default false)) }}
{{- end }}

{{/* The JAAS login module for kafka.sasl.mechanism. */}}
{{- define "kafka-reranker.saslLoginModule" -}}
{{- $mechanism := .Values.kafka.sasl.mechanism }}
{{- if eq $mechanism "PLAIN" }}org.apache.kafka.common.security.plain.PlainLoginModule
{{- else if hasPrefix "SCRAM-" $mechanism }}org.apache.kafka.common.security.scram.ScramLoginModule
{{- else }}{{ fail (printf "kafka.sasl.mechanism=%q: expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512" $mechanism) }}
{{- end }}
{{- end }}

{{/* KEDA's name for kafka.sasl.mechanism. */}}
{{- define "kafka-reranker.kedaSasl" -}}
{{- $mechanism := .Values.kafka.sasl.mechanism }}
{{- if eq $mechanism "PLAIN" }}plaintext
{{- else if eq $mechanism "SCRAM-SHA-256" }}scram_sha256
{{- else if eq $mechanism "SCRAM-SHA-512" }}scram_sha512
{{- else }}{{ fail (printf "kafka.sasl.mechanism=%q: expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512" $mechanism) }}
{{- end }}
{{- end }}

{{- define "kafka-reranker.usesTls" -}}
{{- if has .Values.kafka.securityProtocol (list "SSL" "SASL_SSL") }}true{{ end }}
{{- end }}

{{- define "kafka-reranker.usesSasl" -}}
{{- if has .Values.kafka.securityProtocol (list "SASL_PLAINTEXT" "SASL_SSL") }}true{{ end }}
{{- end }}

{{/*
A properties value as text: YAML numbers arrive as float64, and 1000000 would print as 1e+06.
*/}}
{{- define "kafka-reranker.propertyValue" -}}
{{- if and (kindIs "float64" .) (eq . (floor .)) }}{{ int64 . }}
{{- else }}{{ toString . }}
{{- end }}
{{- end }}

{{/*
reranker.properties, rendered from the values. Keys set from structured values cannot be set again in
config.properties: two places for one setting would disagree sooner or later (and KEDA must watch
the same consumer group the app uses).
*/}}
{{- define "kafka-reranker.properties" -}}
{{- $v := .Values }}
{{- $props := dict
  "application.id" $v.config.applicationId
  "bootstrap.servers" $v.kafka.bootstrapServers
  "security.protocol" $v.kafka.securityProtocol
  "schema.registry.url" $v.schemaRegistry.url
  "topic.candidates" $v.config.topics.candidates
  "topic.results" $v.config.topics.results
  "topic.dead.letters" $v.config.topics.deadLetters
  "num.stream.threads" $v.config.numStreamThreads
  "inference.device" (include "kafka-reranker.inferenceDevice" .)
  "state.dir" "/var/lib/reranker/state"
  "admin.port" $v.http.port
  "admin.bind.address" $v.http.bindAddress
}}
{{- if $v.model.name }}
{{- $_ := set $props "model.dir" (printf "%s/%s" (trimSuffix "/" $v.model.mountPath) $v.model.name) }}
{{- end }}
{{- if $v.kafka.sasl.mechanism }}
{{- $_ := set $props "sasl.mechanism" $v.kafka.sasl.mechanism }}
{{- end }}
{{- if $v.gpu.enabled }}
{{- $_ := set $props "inference.gpu.memory.bytes" $v.gpu.memoryBytes }}
{{- $_ := set $props "inference.cuda.gpu.mem.limit.bytes" $v.gpu.arenaLimitBytes }}
{{- $_ := set $props "inference.tensorrt.enabled" $v.gpu.tensorrt.enabled }}
{{- if $v.gpu.tensorrt.enabled }}
{{- $_ := set $props "inference.tensorrt.engine.cache.dir" "/var/cache/reranker/tensorrt" }}
{{- end }}
{{- end }}
{{- if $v.schemaRegistry.basicAuth.existingSecret }}
{{- $_ := set $props "basic.auth.credentials.source" "USER_INFO" }}
{{- end }}
{{- range $key, $value := ($v.config.properties | default dict) }}
{{- if hasKey $props $key }}
{{- fail (printf "config.properties.%s: this key is set from other values (%s); set it there instead" $key (include "kafka-reranker.ownerOf" $key)) }}
{{- end }}
{{- if has $key (list "sasl.jaas.config" "basic.auth.user.info" "ssl.keystore.password" "ssl.key.password" "ssl.truststore.password") }}
{{- fail (printf "config.properties.%s: a credential does not belong in values (they end up in a ConfigMap); use kafka.sasl.existingSecret, schemaRegistry.basicAuth.existingSecret or extraEnv with a secretKeyRef" $key) }}
{{- end }}
{{- $_ := set $props $key $value }}
{{- end }}
{{- range $key := keys $props | sortAlpha }}
{{ $key }}={{ include "kafka-reranker.propertyValue" (get $props $key) }}
{{- end }}
{{- end }}

{{- define "kafka-reranker.ownerOf" -}}
{{- $owners := dict
  "application.id" "config.applicationId"
  "bootstrap.servers" "kafka.bootstrapServers"
  "security.protocol" "kafka.securityProtocol"
  "sasl.mechanism" "kafka.sasl.mechanism"
  "schema.registry.url" "schemaRegistry.url"
  "basic.auth.credentials.source" "schemaRegistry.basicAuth.existingSecret"
  "topic.candidates" "config.topics.candidates"
  "topic.results" "config.topics.results"
  "topic.dead.letters" "config.topics.deadLetters"
  "num.stream.threads" "config.numStreamThreads"
  "inference.device" "config.inferenceDevice"
  "model.dir" "model.name"
  "state.dir" "the chart's state volume"
  "admin.port" "http.port"
  "admin.bind.address" "http.bindAddress"
  "inference.gpu.memory.bytes" "gpu.memoryBytes"
  "inference.cuda.gpu.mem.limit.bytes" "gpu.arenaLimitBytes"
  "inference.tensorrt.enabled" "gpu.tensorrt.enabled"
  "inference.tensorrt.engine.cache.dir" "gpu.tensorrt.engineCache"
}}
{{- get $owners . | default "the chart" }}
{{- end }}
