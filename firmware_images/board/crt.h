/*
 * The C run-time start shared by every startup file: what must happen
 * between reset and main() on any of our Cortex-M boards.
 */
#ifndef CRT_H
#define CRT_H

/*
 * Points VTOR at the image's own vector table (a bootloader may have started
 * it from a slot), enables the FPU on a Cortex-M4F build, copies .data from
 * flash and clears .bss.
 */
void crt_init(const void *vector_table);

#endif
