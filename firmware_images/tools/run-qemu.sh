#!/bin/sh
# Runs one image under QEMU's model of the reference board and prints the
# UART0 transcript on stdout. The exit status is the image's semihosting
# exit code (124 if QEMU_TIMEOUT seconds pass first).
#
#   tools/run-qemu.sh m3|m4f build/m3/test_sched.elf
#
# By default QEMU counts instructions for its clock (-icount shift=5: one
# instruction is 32 ns, near the board's 40 ns at 25 MHz), so a run does
# not depend on how busy the host is. QEMU_ICOUNT=off runs in real time,
# which gives the same transcripts on a quiet host but can reorder them
# when the host stalls QEMU for a whole tick.
set -u
cpu=$1
elf=$2
case "$cpu" in
m3) machine=mps2-an385 ;;
m4f) machine=mps2-an386 ;;
*) echo "unknown cpu '$cpu' (m3 or m4f)" >&2; exit 2 ;;
esac
case "${QEMU_ICOUNT:-on}" in
off) clock="" ;;
*) clock="-icount shift=5,align=off,sleep=off" ;;
esac
# $clock is split into words on purpose.
exec timeout "${QEMU_TIMEOUT:-120}" "${QEMU:-qemu-system-arm}" \
    -M "$machine" -nographic -monitor none -serial stdio \
    -semihosting-config enable=on,target=native $clock -kernel "$elf"
