// SPDX-License-Identifier: MIT
#include <stdio.h>

#include "cli.h"
#include "unit.h"
#include "util.h"

static int parse(struct run_options *o, const char *a1, const char *a2, const char *a3,
		 const char *a4)
{
	char *argv[] = { "run", (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL };
	int argc = 1;

	while (argv[argc])
		argc++;
	return cli_parse_run(argc, argv, o);
}

static void parses_a_full_command(void **state)
{
	struct run_options o;
	char *argv[] = { "run",	      "--kernel", "k",	     "--initrd", "i",
			 "--cmdline", "a b",	  "--cpus",  "4",	 "--memory",
			 "1G",	      "--reboot", "restart", NULL };

	(void)state;
	assert_int_equal(cli_parse_run(13, argv, &o), 0);
	assert_string_equal(o.spec.kernel, "k");
	assert_string_equal(o.spec.initrd, "i");
	assert_string_equal(o.spec.boot_args, "a b");
	assert_int_equal(o.spec.cpus, 4);
	assert_int_equal(o.spec.mem_size, GiB);
	assert_int_equal(o.spec.on_reboot, REBOOT_RESTART);
}

static void defaults(void **state)
{
	struct run_options o;

	(void)state;
	assert_int_equal(parse(&o, "--kernel", "k", NULL, NULL), 0);
	assert_int_equal(o.spec.cpus, 1);
	assert_int_equal(o.spec.mem_size, SPEC_DEFAULT_MEM);
	assert_string_equal(o.spec.boot_args, SPEC_DEFAULT_BOOT_ARGS);
	assert_string_equal(o.spec.initrd, "");
	assert_int_equal(parse(&o, "--memory=512", "--kernel=k", NULL, NULL), 0);
	assert_int_equal(o.spec.mem_size, 512 * MiB);
}

/*
 * Devices get their ids when they are described: a disk without one was
 * "drive" in the VMM and "drive0" in GET /vm/config, so PATCH
 * /drives/drive0 failed, and two such disks shared their metrics.
 */
static void devices_get_unique_ids(void **state)
{
	struct run_options o;
	char *argv[] = { "run",	   "--kernel", "k",	"--disk", "path=/a",
			 "--disk", "path=/b",  "--net", "tap=t0", NULL };

	(void)state;
	assert_int_equal(cli_parse_run(9, argv, &o), 0);
	assert_int_equal(o.spec.ndisks, 2);
	assert_string_equal(o.spec.disks[0].id, "drive0");
	assert_string_equal(o.spec.disks[1].id, "drive1");
	assert_string_equal(o.spec.nics[0].id, "eth0");
	assert_int_equal(parse(&o, "--kernel", "k", "--disk", "path=/a,id=x,cache=none,ro"), 0);
	assert_true(o.spec.disks[0].direct && o.spec.disks[0].read_only);
	assert_false(o.spec.disks[0].no_flush);
	assert_int_equal(parse(&o, "--kernel", "k", "--disk", "path=/a,cache=unsafe,io=sync"), 0);
	assert_true(o.spec.disks[0].no_flush && o.spec.disks[0].sync_io);
	assert_int_equal(parse(&o, "--kernel", "k", "--disk", "ro"), EXIT_BAD_INPUT);
	assert_int_equal(parse(&o, "--kernel", "k", "--disk", "path=x,cache=sometimes"),
			 EXIT_BAD_INPUT);
	assert_int_equal(parse(&o, "--kernel", "k", "--disk", "path=x,id=123456789012345678901"),
			 EXIT_BAD_INPUT);
	assert_int_equal(parse(&o, "--kernel", "k", "--disk", "path=x,,ro"), EXIT_BAD_INPUT);
	assert_int_equal(parse(&o, "--kernel", "k", "--net", "tap=t,mac=01:00:00:00:00:01"),
			 EXIT_BAD_INPUT); /* multicast */
	assert_int_equal(parse(&o, "--kernel", "k", "--net", "mac=02:00:00:00:00:01"),
			 EXIT_BAD_INPUT); /* no tap */
	assert_int_equal(parse(&o, "--kernel", "k", "--vsock", "cid=2,uds=/s"), EXIT_BAD_INPUT);
	assert_int_equal(parse(&o, "--kernel", "k", "--vsock", "cid=3,uds=/s"), 0);
	assert_int_equal(o.spec.vsock.guest_cid, 3);
}

static void rejects_bad_values(void **state)
{
	struct run_options o;

	(void)state;
	assert_int_equal(parse(&o, NULL, NULL, NULL, NULL), EXIT_BAD_INPUT); /* no kernel */
	assert_int_equal(parse(&o, "--kernel", "k", "--cpus", "0"), EXIT_BAD_INPUT);
	assert_int_equal(parse(&o, "--kernel", "k", "--cpus", "65"), EXIT_BAD_INPUT);
	assert_int_equal(parse(&o, "--kernel", "k", "--cpus", "two"), EXIT_BAD_INPUT);
	assert_int_equal(parse(&o, "--kernel", "k", "--cpus", "-1"), EXIT_BAD_INPUT);
	assert_int_equal(parse(&o, "--kernel", "k", "--memory", "lots"), EXIT_BAD_INPUT);
	assert_int_equal(parse(&o, "--kernel", "k", "--memory", "1M"), EXIT_BAD_INPUT);
	assert_int_equal(parse(&o, "--kernel", "k", "--memory", "4097K"), EXIT_BAD_INPUT);
	assert_int_equal(parse(&o, "--kernel", "k", "--memory", "2T"), EXIT_BAD_INPUT);
	assert_int_equal(parse(&o, "--kernel", "k", "--reboot", "maybe"), EXIT_BAD_INPUT);
	assert_int_equal(parse(&o, "--kernel", "k", "--bogus", NULL), EXIT_BAD_INPUT);
	assert_int_equal(parse(&o, "--kernel", "k", "stray", NULL), EXIT_BAD_INPUT);
	assert_int_equal(parse(&o, "--kernel", NULL, NULL, NULL), EXIT_BAD_INPUT);
	assert_int_equal(parse(&o, "--kernel", "k", "--cpus", "64"), 0);
}

/*
 * The jail's ids: uid=4294967295 is (uid_t)-1, which setresuid() takes as
 * "no change": the VMM would have stayed root (it was accepted).
 */
static void jail_refuses_ids_that_keep_root(void **state)
{
	struct run_options o;

	(void)state;
	assert_int_equal(parse(&o, "--kernel", "k", "--jail", "/j,uid=4294967295"), EXIT_BAD_INPUT);
	assert_int_equal(parse(&o, "--kernel", "k", "--jail", "/j,gid=4294967295"), EXIT_BAD_INPUT);
	assert_int_equal(parse(&o, "--kernel", "k", "--jail", "/j,uid=-1"), EXIT_BAD_INPUT);
	assert_int_equal(parse(&o, "--kernel", "k", "--jail", "/j,uid=0"), EXIT_BAD_INPUT);
	assert_int_equal(parse(&o, "--kernel", "k", "--jail", "/j,cgroup=../x=1"), EXIT_BAD_INPUT);
	assert_int_equal(parse(&o, "--kernel", "k", "--jail", "/j,netns,netns=/r"), EXIT_BAD_INPUT);
	assert_int_equal(
	    parse(&o, "--kernel", "k", "--jail", "/j,uid=4294967294,cgroup=pids.max=9"), 0);
	assert_int_equal(o.jail.uid, 4294967294u);
	assert_int_equal(o.jail.nlimits, 1);
	assert_string_equal(o.jail.limits[0].file, "pids.max");
	assert_string_equal(o.jail.limits[0].value, "9");
}

int run_cli_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_a_full_command),
		cmocka_unit_test(defaults),
		cmocka_unit_test(devices_get_unique_ids),
		cmocka_unit_test(rejects_bad_values),
		cmocka_unit_test(jail_refuses_ids_that_keep_root),
	};
	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
