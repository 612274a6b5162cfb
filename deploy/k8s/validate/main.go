// k8s-validate renders Kustomize directories and strictly decodes every object into the typed structs of
// the Kubernetes API it is pinned to (go.mod: k8s.io/api), offline.
//
//	k8s-validate PATH...
//
// A PATH that is a directory is rendered with Kustomize (as `kubectl apply -k PATH` would); a file is read
// as YAML documents. Every object must be of a kind the pinned API knows, and must decode into that kind's
// struct with no unknown and no duplicate field (what `kubectl apply --validate=strict` refuses on a real
// cluster). On success the objects, as rendered, are printed to stdout as one JSON list for the Python
// test that checks them against the settings classes; any error is printed to stderr, exit status 1.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	sigsyaml "sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: k8s-validate PATH... (a Kustomize directory or a YAML file)")
		os.Exit(2)
	}
	decoder := strictDecoder()
	objects := []map[string]any{}
	failed := false
	for _, path := range os.Args[1:] {
		docs, err := documents(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			failed = true
			continue
		}
		for i, doc := range docs {
			obj, err := validate(decoder, doc)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: object %d: %v\n", path, i+1, err)
				failed = true
				continue
			}
			objects = append(objects, obj)
		}
	}
	if failed {
		os.Exit(1)
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", " ")
	if err := out.Encode(objects); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// strictDecoder decodes YAML or JSON into the typed object of its apiVersion and kind, refusing unknown and
// duplicate fields and kinds that are not registered in the scheme (see scheme.go).
func strictDecoder() runtime.Decoder {
	factory := serializer.NewCodecFactory(newScheme(), serializer.EnableStrict)
	return factory.UniversalDeserializer()
}

// documents returns the YAML documents of one PATH: a Kustomize build of a directory, or a file's documents.
func documents(path string) ([][]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	var data []byte
	if info.IsDir() {
		kustomizer := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
		resources, err := kustomizer.Run(filesys.MakeFsOnDisk(), path)
		if err != nil {
			return nil, fmt.Errorf("kustomize build: %w", err)
		}
		if data, err = resources.AsYaml(); err != nil {
			return nil, err
		}
	} else if data, err = os.ReadFile(path); err != nil {
		return nil, err
	}
	reader := yaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := reader.Read()
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(stripComments(string(doc))) == "" {
			continue
		}
		docs = append(docs, doc)
	}
}

// validate decodes one document strictly and returns it as a generic object for the JSON output.
func validate(decoder runtime.Decoder, doc []byte) (map[string]any, error) {
	typed, gvk, err := decoder.Decode(doc, nil, nil)
	if err != nil {
		return nil, err
	}
	if typed == nil || gvk == nil {
		return nil, fmt.Errorf("not a Kubernetes object")
	}
	var obj map[string]any
	if err := sigsyaml.Unmarshal(doc, &obj); err != nil {
		return nil, err
	}
	return obj, nil
}

func stripComments(doc string) string {
	var kept []string
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}
