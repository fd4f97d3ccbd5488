#!/usr/bin/env bash
# Create the development kind cluster unless it exists, then install the CRDs.
# Environment: KIND_CLUSTER (default litellm-operator), KIND and KUBECTL (the
# binaries, default kind and kubectl).
set -euo pipefail

cluster=${KIND_CLUSTER:-litellm-operator}
kind=${KIND:-kind}
kubectl=${KUBECTL:-kubectl}
root=$(cd "$(dirname "$0")/.." && pwd)

if "$kind" get clusters 2>/dev/null | grep -qx "$cluster"; then
  echo "kind cluster $cluster already exists" >&2
else
  "$kind" create cluster --name "$cluster" --config "$root/hack/kind-config.yaml" --wait 180s
fi

"$kubectl" --context "kind-$cluster" apply -k "$root/manifests/crd"
