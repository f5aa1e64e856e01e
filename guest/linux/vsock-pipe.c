// SPDX-License-Identifier: MIT
/*
 * vsock-pipe: nc for AF_VSOCK, for the guest side of the vsock tests.
 *   vsock-pipe connect CID PORT   stdin to the peer, then the peer to stdout
 *   vsock-pipe listen PORT        accept one connection, copy it to stdout
 * Built static (guest/build.sh), so it runs in any guest kit.
 */
#include <linux/vm_sockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int copy(int from, int to)
{
	static char buf[65536];
	ssize_t n;

	while ((n = read(from, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(to, buf + off, n - off);

			if (w <= 0)
				return -1;
			off += w;
		}
	}
	return n < 0 ? -1 : 0;
}

static int die(const char *what)
{
	perror(what);
	return 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_vm addr = { .svm_family = AF_VSOCK };
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0), conn;

	if (fd < 0)
		return die("socket(AF_VSOCK)");
	if (argc == 4 && !strcmp(argv[1], "connect")) {
		addr.svm_cid = strtoul(argv[2], NULL, 0);
		addr.svm_port = strtoul(argv[3], NULL, 0);
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
			return die("connect");
		if (copy(STDIN_FILENO, fd))
			return die("send");
		shutdown(fd, SHUT_WR);
		return copy(fd, STDOUT_FILENO) ? die("receive") : 0;
	}
	if (argc == 3 && !strcmp(argv[1], "listen")) {
		addr.svm_cid = VMADDR_CID_ANY;
		addr.svm_port = strtoul(argv[2], NULL, 0);
		if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0)
			return die("bind");
		conn = accept(fd, NULL, NULL);
		if (conn < 0)
			return die("accept");
		return copy(conn, STDOUT_FILENO) ? die("receive") : 0;
	}
	fprintf(stderr, "usage: vsock-pipe connect CID PORT | vsock-pipe listen PORT\n");
	return 2;
}
