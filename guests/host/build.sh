#!/bin/sh
# Builds the host's isolation guests (flat Multiboot kernels) with nasm.
set -e
cd "$(dirname "$0")"
for g in triple spin flood memhog; do nasm -f bin -o "$g.bin" "$g.asm"; done
