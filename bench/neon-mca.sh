#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# llvm-mca cycle model of the NEON GEMM micro-kernels' inner loops (a model, not a measurement:
# llvm-mca schedules the loop body on LLVM's description of each core, with every load an L1
# hit and no branch mispredicts).
#
#   bench/neon-mca.sh [AARCH64_BUILD_DIR [ARMV7_BUILD_DIR]]   (defaults build/aarch64 build/armv7)
#
# Needs the objects of `cmake --build --preset aarch64` / `armv7` (lib/arch/CMakeFiles/fennec_arch_neon*.dir/arm/neon*.cpp.o) and
# Debian's `llvm` (llvm-mca). For each micro_kernel it takes the hottest loop of the object code
# (the backward branch whose body is densest in FMA instructions), feeds it to llvm-mca per core model,
# and prints one markdown row: FMAs per iteration, cycles per iteration, and the share of the FMA
# pipe's peak it reaches. The peak is llvm-mca's own figure for the same core: a loop of 24
# independent FMAs of the same form (by element on AArch64, vector on ARMv7), in cycles per FMA.
set -euo pipefail
a64=${1:-build/aarch64}
a32=${2:-build/armv7}
MCA=${LLVM_MCA:-llvm-mca}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# extract_loop OBJDUMP OBJECT SYMBOL_REGEX OUT: the hottest loop's body as llvm-mca input.
extract_loop() {
  "$1" -d --no-show-raw-insn "$2" | python3 -c '
import re, sys
sym = re.compile(sys.argv[1]); out = sys.argv[2]
insns, on = [], False
for line in sys.stdin:
    m = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
    if m:
        on = bool(sym.search(m.group(1)))
        continue
    m = re.match(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$", line)
    if on and m:
        insns.append((int(m.group(1), 16), m.group(2), m.group(3).split("//")[0].split(";")[0].split("@")[0].strip()))
if not insns: sys.exit("no symbol matching " + sys.argv[1])
addr = [a for a, _, _ in insns]
best = None
for i, (a, op, args) in enumerate(insns):
    if not (op.startswith("b") and op not in ("bic", "bif", "bit", "bsl") and not op.startswith("bfi")): continue
    t = re.search(r"\b([0-9a-f]+) <", args)
    if not t: continue
    target = int(t.group(1), 16)
    if target >= a or target not in addr: continue
    j = addr.index(target)
    body = insns[j:i]
    fmas = sum(1 for _, o, _ in body if o.startswith(("fmla", "vfma", "vmla")))
    # The k loop: the backward branch whose body is densest in FMAs (a wider candidate also
    # spans the remainder steps and the set-up around them).
    if fmas >= 8 and (best is None or fmas / len(body) > best[0] / len(best[1])): best = (fmas, body)
fmas, body = best
with open(out, "w") as f:
    f.write("loop:\n")
    for _, o, args in body:
        if o.startswith("b") and o not in ("bic", "bif", "bit", "bsl"): continue  # inner jumps of the rotated loop
        f.write("\t%s %s\n" % (o, args))
    f.write("\tb loop\n")
print(fmas)
' "$3" "$4"
}

# cycles ARCH_ARGS FILE: llvm-mca total cycles / iterations.
cycles() {
  local it=200
  "$MCA" $1 -iterations=$it "$2" 2>/dev/null | awk -v it=$it '/^Total Cycles:/ {printf "%.2f", $3 / it}'
}

row() {  # label triple cpu file fmas peak_file
  local c p
  c=$(cycles "-mtriple=$2 -mcpu=$3" "$4")
  p=$(cycles "-mtriple=$2 -mcpu=$3" "$6")
  python3 -c "
fmas, c, p = $5, $c, $p
peak = p / 24  # cycles per FMA at the model's peak
print('| %s | %s | %d | %.1f | %.1f | %.0f%% |' % ('$1', '$3', fmas, c, fmas * peak, 100 * fmas * peak / c))"
}

echo "| kernel | core model | FMAs per iteration | cycles per iteration | at FMA peak | of FMA peak |"
echo "|---|---|---|---|---|---|"
if [ -f "$a64/lib/arch/CMakeFiles/fennec_arch_neon64.dir/arm/neon64.cpp.o" ]; then
  f=$(extract_loop aarch64-linux-gnu-objdump "$a64/lib/arch/CMakeFiles/fennec_arch_neon64.dir/arm/neon64.cpp.o" \
      'micro_kernel.*neon64' "$tmp/a64.s")
  { echo "loop:"; for i in $(seq 0 23); do echo "	fmla v$((i + 8)).4s, v$((i % 3 + 2)).4s, v$((i % 2)).s[$((i % 4))]"; done
    echo "	b loop"; } > "$tmp/a64-peak.s"
  for cpu in cortex-a72 cortex-a53 cortex-a55 cortex-a57; do
    row "neon64 8x12 (fmla by element)" aarch64 $cpu "$tmp/a64.s" "$f" "$tmp/a64-peak.s"
  done
fi
if [ -f "$a32/lib/arch/CMakeFiles/fennec_arch_neon.dir/arm/neon.cpp.o" ]; then
  f=$(extract_loop arm-linux-gnueabihf-objdump "$a32/lib/arch/CMakeFiles/fennec_arch_neon.dir/arm/neon.cpp.o" \
      'micro_kernel.*neon' "$tmp/a32.s")
  op=vfma.f32
  grep -q vfma "$tmp/a32.s" || op=vmla.f32
  { echo "loop:"; for i in $(seq 0 11); do echo "	$op q$((i + 4)), q$((i % 2)), q$((i % 2 + 2))"; done
    for i in $(seq 0 11); do echo "	$op q$((i + 4)), q$((i % 2 + 1)), q$((i % 2 + 2))"; done
    echo "	b loop"; } > "$tmp/a32-peak.s"
  # LLVM 14 has no Cortex-A7 model, and its Cortex-A9 model does not describe the NEON unit
  # (it reports 48 vmla in 9 cycles): the ARMv7 loop is modelled on the A57 in AArch32 only.
  for cpu in cortex-a57; do
    row "neon 6x8 ($op)" armv7a $cpu "$tmp/a32.s" "$f" "$tmp/a32-peak.s"
  done
fi
