#!/bin/sh
# Builds the system test guests (guests/systests/*.asm -> *.bin, flat Multiboot kernels)
# and, with --record, records each one's output under QEMU as its expected fixture
# (guests/systests/expected/NAME.txt); the guests QEMU cannot judge (BOCHS_GUESTS: QEMU
# TCG does not check segment limits, #AC and some error codes) are recorded under Bochs
# instead. Needs nasm, gcc and ld; --record also needs qemu-system-i386 and bochs.
# `--record NAME...` records only the named guests.
# The AMD-V guests (SVM_GUESTS below) are recorded under both Bochs and QEMU.
# The list of Bochs guests is also in test/system/guests.ts.
set -eu
cd "$(dirname "$0")/../guests/systests"
record=0
if [ "${1:-}" = "--record" ]; then record=1; shift; fi
only=" $* "
u32() { od -An -t u4 -j "$2" -N 4 "$1" | tr -d ' '; }
for src in *.asm; do
  name=${src%.asm}
  nasm -f bin -I./ -o "$name.bin" "$src"
  # The Multiboot header (at offset 0) must say the whole file: load_end - load_addr.
  size=$(stat -c %s "$name.bin")
  if [ $(( $(u32 "$name.bin" 20) - $(u32 "$name.bin" 16) )) -ne "$size" ]; then
    echo "$name.bin: the header's load_end_addr does not end the file ($size bytes)" >&2
    exit 1
  fi
  echo "built guests/systests/$name.bin"
done
# ELF guests: built by gcc and ld, so the ELF path of a loader is tested on files other
# tools wrote.
gcc -m32 -ffreestanding -fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables \
  -nostdlib -no-pie -O2 -Wall -Wl,-T,elf/elfkernel.ld -Wl,--build-id=none \
  -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments \
  -o elf/elfkernel.elf elf/elfkernel.c
echo "built guests/systests/elf/elfkernel.elf"
obj=$(mktemp)
nasm -f elf32 -o "$obj" elf/higherhalf.asm
ld -m elf_i386 -T elf/higherhalf.ld --build-id=none -z max-page-size=0x1000 -z noexecstack \
  -o elf/higherhalf.elf "$obj"
rm -f "$obj"
echo "built guests/systests/elf/higherhalf.elf"
# The checkpoints blocks as a Linux program, run on the host CPU by test/diff.
obj=$(mktemp)
nasm -f elf32 -I./ -o "$obj" hostcpu/checkpoints-linux.asm
ld -m elf_i386 --build-id=none --no-warn-rwx-segments -o hostcpu/checkpoints-linux "$obj"
rm -f "$obj"
echo "built guests/systests/hostcpu/checkpoints-linux"
[ $record = 1 ] || exit 0
VMX_GUESTS="vmxinsns vmx-exits vmx-entry vmx-events vmx-ept vmx-irq vmx-state vmx-real vmx-nmi"
BOCHS_GUESTS="limits strict tss segload gates faults bigreal sysregs tasks v86 $VMX_GUESTS"
# guests that need VMX run on a Bochs cpu model that has it (test/system/guests.ts VMX_GUESTS);
# where Bochs departs from the SDM their fixtures hold the SDM's line instead: expected/NAME.sdm
# lists each pair ("- " Bochs' line, then "+ " the SDM's line or lines) and is applied here
mkdir -p expected
version=$(qemu-system-i386 --version | head -n 1)
bochs_release="Bochs x86 Emulator $(dpkg-query -W -f '${Version}' bochs 2>/dev/null || echo 2.7)"
# AMD-V guests: recorded under both references, Bochs (cpu model phenom_8650_toliman) and
# QEMU (-cpu phenom); expected/NAME.txt is the one that follows the APM where they differ
# (SVM_QEMU_FIRST: QEMU; the others: Bochs), expected/NAME.bochs.txt or NAME.qemu.txt the
# other (test/system/guests.ts SVM_GUESTS, SVM_REFERENCE).
SVM_GUESTS="svm-exits svm-events svm-npt svm-vmrun svm-intr svm-state"
SVM_QEMU_FIRST="svm-events"
svm_bochs() { # image, fixture file
  out=$(mktemp)
  BOCHS_CPU=phenom_8650_toliman BOCHS_TIMEOUT=60 bochs/run-bochs.sh "$1" > "$out" 2> "$out.err"
  if [ -s "$out.err" ]; then
    status="0 ($(cat "$out.err"): a triple fault, as QEMU's 0)"
  else
    status="1 (the guest writes 0 to isa-debug-exit after DONE; Bochs has no such port)"
  fi
  {
    echo "# reference: $bochs_release (cpu model phenom_8650_toliman)"
    echo "# command: BOCHS_CPU=phenom_8650_toliman guests/systests/bochs/run-bochs.sh $1 (Bochs starts it through bochs/romloader.asm)"
    echo "# exit status: $status"
    cat "$out"
  } > "$2"
  rm -f "$out" "$out.err"
  echo "recorded guests/systests/$2 under Bochs"
}
svm_qemu() { # image, fixture file
  out=$(mktemp)
  set +e
  timeout 60 ./run-qemu.sh "$1" -cpu phenom > "$out" 2>/dev/null
  status=$?
  set -e
  {
    echo "# reference: $version (-cpu phenom)"
    echo "# command: qemu-system-i386 -accel tcg -display none -serial file:OUT -nic none -no-reboot -m 128 -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel $1 -cpu phenom"
    echo "# exit status: $status (isa-debug-exit: (value << 1) | 1; 0: QEMU shut down, e.g. on a triple fault)"
    cat "$out"
  } > "$2"
  rm -f "$out"
  echo "recorded guests/systests/$2 under QEMU (exit $status)"
}
for image in *.bin elf/*.elf; do
  name=$(basename "${image%.*}")
  [ "$only" = "  " ] || case $only in *" $name "*) ;; *) continue ;; esac
  # guestinfo: QEMU's vmport answers GETVERSION but has no RPC channel; its test
  # (test/ovf/guestinfo.test.ts) compares the GETVERSION line with QEMU live.
  [ "$name" = guestinfo ] && continue
  case " $SVM_GUESTS " in
    *" $name "*)
      case " $SVM_QEMU_FIRST " in
        *" $name "*)
          svm_qemu "$image" "expected/$name.txt"
          svm_bochs "$image" "expected/$name.bochs.txt" ;;
        *)
          svm_bochs "$image" "expected/$name.txt"
          svm_qemu "$image" "expected/$name.qemu.txt" ;;
      esac
      continue ;;
  esac
  case " $BOCHS_GUESTS " in
    *" $name "*)
      out=$(mktemp)
      cpu=core2_penryn_t9600
      case " $VMX_GUESTS " in *" $name "*) cpu=corei7_sandy_bridge_2600k ;; esac
      bochs_version="$bochs_release (cpu model $cpu)"
      BOCHS_CPU=$cpu BOCHS_TIMEOUT=60 bochs/run-bochs.sh "$image" > "$out" 2> "$out.err"
      if [ -s "$out.err" ]; then
        status="0 ($(cat "$out.err"): a triple fault, as QEMU's 0)"
      else
        status="1 (the guest writes 0 to isa-debug-exit after DONE; Bochs has no such port)"
      fi
      {
        echo "# reference: $bochs_version"
        env=""
        [ $cpu = core2_penryn_t9600 ] || env="BOCHS_CPU=$cpu "
        echo "# command: ${env}guests/systests/bochs/run-bochs.sh $image (Bochs starts it through bochs/romloader.asm)"
        echo "# exit status: $status"
        [ -f "expected/$name.sdm" ] &&
          echo "# edited: lines where Bochs departs from the SDM hold the SDM's (expected/$name.sdm)"
        if [ -f "expected/$name.sdm" ]; then
          awk 'FNR == NR { if (/^- /) b = substr($0, 3)
                           else if (/^\+ /) { if (b in sdm) sdm[b] = sdm[b] "\n" substr($0, 3)
                                               else sdm[b] = substr($0, 3) }
                           next }
               ($0 in sdm) { print sdm[$0]; next } { print }' "expected/$name.sdm" "$out"
        else
          cat "$out"
        fi
      } > "expected/$name.txt"
      rm -f "$out" "$out.err"
      echo "recorded guests/systests/expected/$name.txt under Bochs"
      continue ;;
  esac
  # guests that need boot arguments (test/system/guests.ts passes the same to wasmvisor)
  set --
  case $name in
    modules) set -- -append "one two=2" -initrd "modules/a.txt first module,modules/b.txt" ;;
    apic-msi) set -- -device edu ;; # QEMU's MSI test device (test/system/guests.ts)
  esac
  shown=""
  for a in "$@"; do case $a in *" "*) shown="$shown \"$a\"" ;; *) shown="$shown $a" ;; esac; done
  out=$(mktemp)
  set +e
  timeout 30 ./run-qemu.sh "$image" "$@" > "$out" 2>/dev/null
  status=$?
  set -e
  {
    echo "# reference: $version"
    echo "# command: qemu-system-i386 -accel tcg -display none -serial file:OUT -nic none -no-reboot -m 128 -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel $image$shown"
    echo "# exit status: $status (isa-debug-exit: (value << 1) | 1; 0: QEMU shut down, e.g. on a triple fault)"
    # apic, apic-tables: where QEMU departs from the specification (or its machine from
    # wasmvisor's), the fixture holds the other line (expected/NAME.sdm)
    if [ -f "expected/$name.sdm" ]; then
      echo "# edited: lines listed in expected/$name.sdm hold the specification's (or wasmvisor's)"
      awk 'FNR == NR { if (/^- /) b = substr($0, 3)
                       else if (/^\+ /) { if (b in sdm) sdm[b] = sdm[b] "\n" substr($0, 3)
                                           else sdm[b] = substr($0, 3) }
                       next }
           ($0 in sdm) { print sdm[$0]; next } { print }' "expected/$name.sdm" "$out"
    else
      cat "$out"
    fi
  } > "expected/$name.txt"
  rm -f "$out"
  echo "recorded guests/systests/expected/$name.txt (exit $status)"
done
