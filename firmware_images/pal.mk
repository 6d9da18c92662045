# The PAL test suite (pal_tests/, docs/pal.md), built for each board with
# the board's reference PAL, or with a PAL of your own:
#
#   make -C firmware_images -f pal.mk              every board and core
#   make -C firmware_images -f pal.mk BOARD=stm32f4
#   make -C firmware_images -f pal.mk BOARD=ref CPU=m4f \
#       PAL=path/to/my_pal.c                       your PAL (one or more .c)
#
# Images: build/<cpu>/pal_test_<board>.elf, that is build/m3/pal_test_ref.elf,
# build/m4f/pal_test_ref.elf and build/m4f/pal_test_stm32f4.elf. Run one with
# `ota-emu pal-test build/m4f/pal_test_ref.elf`.
#
# PAL paths are relative to firmware_images/ or absolute. PAL_DEFS adds
# compiler flags to every file (the tests use -DPAL_PLANTED_BUG=n). The test
# vectors (a fresh key pair, the test file and its signatures) are generated
# once per build folder by pal_tests/gen_vectors.py with the project's
# virtual environment.
#
# The main Makefile may include this file after its `all:` line; then `make`
# builds these images too.

CROSS ?= arm-none-eabi-
ifeq ($(origin CC),default)
CC := $(CROSS)gcc
endif
BUILD ?= build
PYTHON ?= $(firstword $(wildcard ../.venv/bin/python) python3)

CPUFLAGS_m3 ?= -mcpu=cortex-m3 -mthumb
CPUFLAGS_m4f ?= -mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard

PAL_BOARDS := ref stm32f4
BOARD ?= $(PAL_BOARDS)
PAL_CPUS_ref := m3 m4f
PAL_CPUS_stm32f4 := m4f
CPU ?= m3 m4f
PAL ?=
PAL_DEFS ?=

PAL_COMMON := ../pal_stubs/common/ota_pal_common.c \
	../pal_stubs/common/pal_flash.c ../pal_stubs/common/pal_trailer.c
PAL_SRCS_ref := $(if $(PAL),$(PAL),$(PAL_COMMON) ../pal_stubs/ref/ota_pal_ref.c)
PAL_SRCS_stm32f4 := $(if $(PAL),$(PAL), \
	$(PAL_COMMON) ../pal_stubs/stm32f4/ota_pal_stm32f4.c)

SUITE_SRCS := pal_tests/runner.c pal_tests/cases.c drivers/crypto.c
BOARD_SRCS_ref := pal_tests/ref/board.c board/startup.c board/crt.c board/console.c \
	board/semihost.c
BOARD_SRCS_stm32f4 := pal_tests/stm32f4/board.c pal_tests/stm32f4/startup.c board/crt.c \
	board/semihost.c

# The suite runs from the primary slot, after the 0x200-byte image header.
LINK_ref := -T board/mps2.ld -Wl,--defsym=__flash_origin=0x20200 \
	-Wl,--defsym=__flash_length=0x1DDE00
LINK_stm32f4 := -T pal_tests/stm32f4/stm32f4.ld
LDSCRIPT_ref := board/mps2.ld
LDSCRIPT_stm32f4 := pal_tests/stm32f4/stm32f4.ld

PAL_VECTORS := $(BUILD)/pal_tests/pal_test_vectors.h
PAL_CFLAGS := -std=c11 -g -O2 -Wall -Wextra -fno-common \
	-ffunction-sections -fdata-sections
PAL_INCLUDES = -I../pal_stubs -I../pal_stubs/common -Ipal_tests \
	-Ipal_tests/$(1) -Idrivers -Iboard -I$(BUILD)/pal_tests
PAL_LDFLAGS := -nostartfiles --specs=nano.specs -Wl,--gc-sections -Wl,-n \
	-Wl,--no-warn-rwx-segments

# An object's name keeps its path, so that two folders cannot collide.
pal_objpath = $(patsubst /%,abs/%,$(subst ../,up/,$(basename $(1))))
pal_objname = $(subst /,_,$(call pal_objpath,$(1))).o
pal_obj = $(BUILD)/$(1)/obj/pal_test_$(2)/$(call pal_objname,$(3))
pal_srcs = $(PAL_SRCS_$(1)) $(SUITE_SRCS) $(BOARD_SRCS_$(1))

PAL_PAIRS := $(foreach b,$(filter $(PAL_BOARDS),$(BOARD)), \
	$(foreach c,$(filter $(CPU),$(PAL_CPUS_$(b))),$(c)/$(b)))
PAL_IMAGES := $(foreach p,$(PAL_PAIRS), \
	$(BUILD)/$(dir $(p))pal_test_$(notdir $(p)).elf)

.PHONY: pal-tests
pal-tests: $(PAL_IMAGES)
all: pal-tests

$(PAL_VECTORS): pal_tests/gen_vectors.py
	@mkdir -p $(@D)
	$(PYTHON) pal_tests/gen_vectors.py $@

define pal_object_rule
$(call pal_obj,$(1),$(2),$(3)): $(3) | $(PAL_VECTORS)
	@mkdir -p $$(@D)
	$(CC) $(CPUFLAGS_$(1)) $(PAL_CFLAGS) $(call PAL_INCLUDES,$(2)) \
		$(PAL_DEFS) -MMD -MP -c $$< -o $$@
endef

define pal_image_rules
$(1)_$(2)_objs := $$(foreach s,$$(call pal_srcs,$(2)), \
	$$(call pal_obj,$(1),$(2),$$(s)))

$(BUILD)/$(1)/pal_test_$(2).elf: $$($(1)_$(2)_objs) $(LDSCRIPT_$(2))
	$(CC) $(CPUFLAGS_$(1)) $$($(1)_$(2)_objs) $(LINK_$(2)) $(PAL_LDFLAGS) \
		-Wl,-Map=$$(@:.elf=.map) -o $$@

$$(foreach s,$$(call pal_srcs,$(2)), \
	$$(eval $$(call pal_object_rule,$(1),$(2),$$(s))))

-include $$($(1)_$(2)_objs:.o=.d)
endef

pal_cpu_of = $(patsubst %/,%,$(dir $(1)))
$(foreach p,$(PAL_PAIRS), \
	$(eval $(call pal_image_rules,$(call pal_cpu_of,$(p)),$(notdir $(p)))))
