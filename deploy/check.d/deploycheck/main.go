// Command deploycheck holds the two checks of deploy/check that need a library rather than a CLI:
//
//	deploycheck keda FILE...            strict-decodes every KEDA object in the rendered manifests
//	                                     into KEDA's own Go types and runs KEDA's own validations
//	deploycheck context ROOT IGNORE DST copies the files of ROOT that a .dockerignore lets into the
//	                                     build context to DST, with the matcher BuildKit uses
//
// No cluster and no Docker engine are needed: the KEDA types and the pattern matcher are libraries.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "keda":
		err = checkKeda(os.Args[2:])
	case "context":
		if len(os.Args) != 5 {
			usage()
		}
		err = copyContext(os.Args[2], os.Args[3], os.Args[4])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "deploycheck:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: deploycheck keda FILE... | deploycheck context ROOT DOCKERIGNORE DEST")
	os.Exit(2)
}

// checkKeda reads multi-document YAML files and checks each keda.sh object; it fails when none is found,
// so a values change that drops the ScaledObject cannot pass unnoticed.
func checkKeda(files []string) error {
	seen := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		for i, doc := range splitDocuments(data) {
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal(doc, &head); err != nil {
				return fmt.Errorf("%s document %d: %w", file, i, err)
			}
			if !strings.HasPrefix(head.APIVersion, "keda.sh/") {
				continue
			}
			where := fmt.Sprintf("%s: %s (document %d)", file, head.Kind, i)
			if head.APIVersion != "keda.sh/v1alpha1" {
				return fmt.Errorf("%s: apiVersion %q, expected keda.sh/v1alpha1", where, head.APIVersion)
			}
			switch head.Kind {
			case "ScaledObject":
				var so kedav1alpha1.ScaledObject
				if err := decodeStrict(doc, &so); err != nil {
					return fmt.Errorf("%s: %w", where, err)
				}
				if err := validateScaledObject(&so); err != nil {
					return fmt.Errorf("%s %s: %w", where, so.Name, err)
				}
			case "TriggerAuthentication":
				var ta kedav1alpha1.TriggerAuthentication
				if err := decodeStrict(doc, &ta); err != nil {
					return fmt.Errorf("%s: %w", where, err)
				}
				for _, ref := range ta.Spec.SecretTargetRef {
					if ref.Parameter == "" || ref.Name == "" || ref.Key == "" {
						return fmt.Errorf("%s %s: secretTargetRef needs parameter, name and key: %+v", where, ta.Name, ref)
					}
				}
			default:
				return fmt.Errorf("%s: unexpected KEDA kind", where)
			}
			seen++
			fmt.Printf("keda: %s ok\n", where)
		}
	}
	if seen == 0 {
		return errors.New("no keda.sh object found in " + strings.Join(files, ", "))
	}
	return nil
}

// validateScaledObject runs KEDA's own checks, then those of the kafka trigger's metadata that KEDA's
// scaler would reject at run time (all metadata values are strings; numbers must parse).
func validateScaledObject(so *kedav1alpha1.ScaledObject) error {
	if so.Spec.ScaleTargetRef == nil || so.Spec.ScaleTargetRef.Name == "" {
		return errors.New("spec.scaleTargetRef.name is empty")
	}
	if err := kedav1alpha1.CheckReplicaCountBoundsAreValid(so); err != nil {
		return err
	}
	if err := kedav1alpha1.ValidateTriggers(so.Spec.Triggers); err != nil {
		return err
	}
	if err := kedav1alpha1.CheckFallbackValid(so); err != nil {
		return err
	}
	for _, trigger := range so.Spec.Triggers {
		if trigger.Type != "kafka" {
			continue
		}
		for _, key := range []string{"bootstrapServers", "consumerGroup", "topic"} {
			if strings.TrimSpace(trigger.Metadata[key]) == "" {
				return fmt.Errorf("kafka trigger: metadata.%s is empty", key)
			}
		}
		for _, key := range []string{"lagThreshold", "activationLagThreshold"} {
			if v, ok := trigger.Metadata[key]; ok {
				if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 0 {
					return fmt.Errorf("kafka trigger: metadata.%s=%q is not a whole number >= 0", key, v)
				}
			}
		}
		if v, ok := trigger.Metadata["offsetResetPolicy"]; ok && v != "earliest" && v != "latest" {
			return fmt.Errorf("kafka trigger: metadata.offsetResetPolicy=%q, expected earliest or latest", v)
		}
	}
	return nil
}

// decodeStrict decodes as the API server would: YAML to JSON first, with no regard for the target type
// (sigs.k8s.io/yaml's Unmarshal would turn a YAML false into the string "false" for a string field,
// which the CRD's schema refuses), then JSON with unknown fields refused.
func decodeStrict(doc []byte, into any) error {
	data, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	return decoder.Decode(into)
}

func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	var current bytes.Buffer
	scanner := bufio.NewScanner(bytes.NewReader(data))
	scanner.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	flush := func() {
		if len(bytes.TrimSpace(current.Bytes())) > 0 {
			docs = append(docs, append([]byte(nil), current.Bytes()...))
		}
		current.Reset()
	}
	for scanner.Scan() {
		line := scanner.Text()
		if strings.HasPrefix(line, "---") {
			flush()
			continue
		}
		current.WriteString(line)
		current.WriteByte('\n')
	}
	flush()
	return docs
}

// copyContext copies what a build would send: every file under root that the ignore file does not
// exclude, matched as BuildKit matches (github.com/moby/patternmatcher).
func copyContext(root, ignorePath, dest string) error {
	f, err := os.Open(ignorePath)
	if err != nil {
		return err
	}
	patterns, err := ignorefile.ReadAll(f)
	f.Close()
	if err != nil {
		return err
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return err
	}
	copied := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		excluded, err := pm.MatchesOrParentMatches(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		if d.IsDir() {
			// An excluded directory is still walked when a !pattern may let a file in it back in.
			if excluded && !reincludesUnder(pm, filepath.ToSlash(rel)) {
				return filepath.SkipDir
			}
			return nil
		}
		if excluded || !d.Type().IsRegular() {
			return nil
		}
		copied++
		return copyFile(path, filepath.Join(dest, rel))
	})
	if err != nil {
		return err
	}
	fmt.Printf("context: %d files\n", copied)
	return nil
}

func reincludesUnder(pm *patternmatcher.PatternMatcher, dir string) bool {
	for _, p := range pm.Patterns() {
		if p.Exclusion() && (p.String() == dir || strings.HasPrefix(p.String(), dir+"/")) {
			return true
		}
	}
	return false
}

func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
