#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Usage: .ci/check-no-heap-symbols.sh NM ARCHIVE. No heap in the library: fails when any object
# of ARCHIVE references an allocator: the malloc family, newlib's reentrant _r forms, the
# aligned allocators, strdup/strndup, or any operator new/delete (_Znw*, _Zna*, _Zdl*, _Zda*).
# platforms/cortex-m4/CMakeLists.txt wraps the same names in the firmware and counts the calls.
set -euo pipefail
nm=$1 archive=$2
names='malloc|calloc|realloc|free|_malloc_r|_calloc_r|_realloc_r|_free_r|memalign|_memalign_r|aligned_alloc'
names+='|posix_memalign|valloc|pvalloc|strdup|_strdup_r|strndup|_strndup_r|_Znw.*|_Zna.*|_Zdl.*|_Zda.*'
undefined=$("$nm" -u "$archive" | awk 'NF == 2 && $1 == "U" { print $2 }')
bad=$(printf '%s\n' "$undefined" | grep -E "^($names)$" || true)
if [ -n "$bad" ]; then
  echo "$archive references the heap:" >&2
  "$nm" -u -A "$archive" | grep -E " U ($names)$" >&2
  exit 1
fi
echo "$archive: $(printf '%s\n' "$undefined" | grep -c . || true) undefined symbol references, no allocator among them"
