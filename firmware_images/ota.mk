# Builds the OTA demo application (images/ota_app) with the OTA agent
# (ota/), the network and crypto drivers, the kernel and the reference
# board's PAL, linked at the primary slot: the MCUboot header takes the
# first 0x200 bytes of the slot at 0x20000, so the vector table sits at
# 0x00020200.
#
#   make -f ota.mk                  every variant for m3 and m4f
#   make -f ota.mk ota_app_clean    remove what this file built
#
# The main Makefile may include this file; "all" then builds these too.
#
# Variants: build/<cpu>/ota_app_<name>.elf, one per name in OTA_VARIANTS,
# compiled with the flags in OTA_DEFS_<name>. A scenario may add its own:
#
#   make -f ota.mk OTA_VARIANTS=1_0_1_n4 \
#       OTA_DEFS_1_0_1_n4='-DAPP_VERSION_BUILD=1 -DOTA_CFG_BLOCKS_PER_REQUEST=4'
#
# OTA_FLAGS adds flags to every variant; docs/ota_agent.md lists the
# agent's configuration macros.

CROSS ?= arm-none-eabi-
CC := $(CROSS)gcc
BUILD ?= build

OTA_CPUS := m3 m4f
OTA_CPUFLAGS_m3 := -mcpu=cortex-m3 -mthumb
OTA_CPUFLAGS_m4f := -mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 \
	-mfloat-abi=hard

OTA_VERSION_DEFS = -DAPP_VERSION_MAJOR=$(1) -DAPP_VERSION_MINOR=$(2) \
	-DAPP_VERSION_BUILD=$(3)

OTA_VARIANTS ?= 1_0_0 1_0_1 1_0_2 1_0_3 1_0_1_selftest_fail \
	1_0_1_no_network
OTA_DEFS_1_0_0 ?= $(call OTA_VERSION_DEFS,1,0,0)
OTA_DEFS_1_0_1 ?= $(call OTA_VERSION_DEFS,1,0,1)
OTA_DEFS_1_0_2 ?= $(call OTA_VERSION_DEFS,1,0,2)
OTA_DEFS_1_0_3 ?= $(call OTA_VERSION_DEFS,1,0,3)
OTA_DEFS_1_0_1_selftest_fail ?= $(call OTA_VERSION_DEFS,1,0,1) \
	-DAPP_SELFTEST_FAIL
OTA_DEFS_1_0_1_no_network ?= $(call OTA_VERSION_DEFS,1,0,1) \
	-DAPP_NO_NETWORK
OTA_FLAGS ?=

# The primary slot of the reference board (pal_stubs/ref/ota_pal_ref.c):
# 0x1E0000 bytes at 0x20000. The image keeps clear of the slot's last
# 64 KiB, where the TLVs and the trailer go.
OTA_SLOT_ORIGIN := 0x00020200
OTA_SLOT_LENGTH := 0x001CFE00

# The reference board's PAL and what it needs. The crypto engine of the
# reference board is at 0x40040000.
OTA_PAL_SRCS ?= ../pal_stubs/common/ota_pal_common.c \
	../pal_stubs/common/pal_flash.c ../pal_stubs/common/pal_trailer.c \
	../pal_stubs/ref/ota_pal_ref.c
OTA_PAL_INC ?= -I../pal_stubs -I../pal_stubs/common
OTA_PAL_DEFS ?= -DPAL_REF_CRYPTO_BASE=0x40040000u

OTA_AGENT_SRCS := $(wildcard ota/*.c)
OTA_BOARD_SRCS := board/startup.c board/crt.c board/console.c board/semihost.c
# The main Makefile's kernel list when it includes us; every kernel source
# otherwise.
OTA_KERNEL_SRCS := $(or $(KERNEL_SRCS),$(wildcard kernel/*.c) \
	$(wildcard kernel/*.S) board/kernel_hooks.c)
OTA_SRCS := images/ota_app/main.c $(OTA_AGENT_SRCS) drivers/netlink.c \
	drivers/crypto.c $(OTA_BOARD_SRCS) $(OTA_KERNEL_SRCS) $(OTA_PAL_SRCS)

OTA_CFLAGS := -std=c11 -g -O2 -Wall -Wextra -fno-common \
	-ffunction-sections -fdata-sections
OTA_INCLUDES := -Iimages/ota_app -Iconfig -Ikernel/include -Ikernel \
	-Iboard -Idrivers -Iota $(OTA_PAL_INC)
# -n (nmagic) keeps the linker from page-aligning the code segment, which
# would put the ELF headers in the 0x200 bytes of the MCUboot header.
OTA_LDFLAGS := -T board/mps2.ld -nostartfiles --specs=nano.specs \
	-Wl,--gc-sections -Wl,--no-warn-rwx-segments -Wl,-n \
	-Wl,--defsym=__flash_origin=$(OTA_SLOT_ORIGIN) \
	-Wl,--defsym=__flash_length=$(OTA_SLOT_LENGTH)

# Sources outside this folder get object paths without "../".
ota_obj = $(patsubst %,$(BUILD)/$(1)/obj/ota_app_$(2)/%.o, \
	$(basename $(subst ../,_up/,$(3))))

.PHONY: all ota_app ota_app_clean
all: ota_app

# One set of rules per (cpu, variant).
define ota_rules
ota_$(1)_$(2)_objs := $$(call ota_obj,$(1),$(2),$(OTA_SRCS))
ota_$(1)_$(2)_flags := $(OTA_CPUFLAGS_$(1)) $(OTA_CFLAGS) $(OTA_DEFS_$(2)) \
	$(OTA_PAL_DEFS) $(OTA_FLAGS) $(OTA_INCLUDES)

ota_app: $(BUILD)/$(1)/ota_app_$(2).elf

$(BUILD)/$(1)/ota_app_$(2).elf: $$(ota_$(1)_$(2)_objs) board/mps2.ld
	$(CC) $(OTA_CPUFLAGS_$(1)) $$(ota_$(1)_$(2)_objs) $(OTA_LDFLAGS) \
		-Wl,-Map=$$(@:.elf=.map) -o $$@

$(BUILD)/$(1)/obj/ota_app_$(2)/%.o: %.c
	@mkdir -p $$(@D)
	$(CC) $$(ota_$(1)_$(2)_flags) -MMD -MP -c $$< -o $$@

$(BUILD)/$(1)/obj/ota_app_$(2)/%.o: %.S
	@mkdir -p $$(@D)
	$(CC) $(OTA_CPUFLAGS_$(1)) -g $(OTA_DEFS_$(2)) $(OTA_INCLUDES) \
		-MMD -MP -c $$< -o $$@

$(BUILD)/$(1)/obj/ota_app_$(2)/_up/%.o: ../%.c
	@mkdir -p $$(@D)
	$(CC) $$(ota_$(1)_$(2)_flags) -MMD -MP -c $$< -o $$@

-include $$(ota_$(1)_$(2)_objs:.o=.d)
endef

$(foreach cpu,$(OTA_CPUS),$(foreach v,$(OTA_VARIANTS), \
	$(eval $(call ota_rules,$(cpu),$(v)))))

ota_app_clean:
	rm -rf $(foreach cpu,$(OTA_CPUS),$(BUILD)/$(cpu)/ota_app_* \
		$(BUILD)/$(cpu)/obj/ota_app_*)
