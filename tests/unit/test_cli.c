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
	assert_string_equal(o.vm.kernel, "k");
	assert_string_equal(o.vm.initrd, "i");
	assert_string_equal(o.vm.cmdline, "a b");
	assert_int_equal(o.vm.cpus, 4);
	assert_int_equal(o.vm.mem_size, GiB);
	assert_int_equal(o.vm.on_reboot, REBOOT_RESTART);
}

static void defaults(void **state)
{
	struct run_options o;

	(void)state;
	assert_int_equal(parse(&o, "--kernel", "k", NULL, NULL), 0);
	assert_int_equal(o.vm.cpus, 1);
	assert_int_equal(o.vm.mem_size, DEFAULT_MEM_SIZE);
	assert_string_equal(o.vm.cmdline, "");
	assert_null(o.vm.initrd);
	assert_int_equal(parse(&o, "--memory=512", "--kernel=k", NULL, NULL), 0);
	assert_int_equal(o.vm.mem_size, 512 * MiB);
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
		cmocka_unit_test(rejects_bad_values),
		cmocka_unit_test(jail_refuses_ids_that_keep_root),
	};
	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
