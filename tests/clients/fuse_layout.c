/*
 * fuse_layout - prints what the kernel's <linux/fuse.h> says about the
 * messages the daemon's FUSE layer (src/Fuse) reads and writes: the size
 * of each struct, the offset and size of each field, the constants and the
 * opcodes.  The protocol tests compare every line with the C# layouts, so
 * no size or offset is written down twice.  Only the fields the C# structs
 * have are listed; a field newer than the installed header is left out
 * (guarded by the header's minor version), and the tests say which.
 *
 * Output, one item a line:
 *   minor N                      FUSE_KERNEL_MINOR_VERSION of the header
 *   struct NAME SIZE
 *   field NAME.FIELD OFFSET SIZE
 *   const NAME VALUE
 *   opcode NAME VALUE
 */
#include <dirent.h>
#include <linux/fuse.h>
#include <stddef.h>
#include <stdio.h>

#define STRUCT(s) printf("struct %s %zu\n", #s, sizeof(struct s))
#define FIELD(s, f) printf("field %s.%s %zu %zu\n", #s, #f, offsetof(struct s, f), sizeof(((struct s *)0)->f))
#define CONSTANT(c) printf("const %s %llu\n", #c, (unsigned long long)(c))
#define OPCODE(o) printf("opcode %s %d\n", #o, (int)(o))

int main(void)
{
	printf("minor %d\n", FUSE_KERNEL_MINOR_VERSION);

	STRUCT(fuse_in_header);
	FIELD(fuse_in_header, len);
	FIELD(fuse_in_header, opcode);
	FIELD(fuse_in_header, unique);
	FIELD(fuse_in_header, nodeid);
	FIELD(fuse_in_header, uid);
	FIELD(fuse_in_header, gid);
	FIELD(fuse_in_header, pid);
	FIELD(fuse_in_header, total_extlen);
	FIELD(fuse_in_header, padding);

	STRUCT(fuse_out_header);
	FIELD(fuse_out_header, len);
	FIELD(fuse_out_header, error);
	FIELD(fuse_out_header, unique);

	STRUCT(fuse_init_in);
	FIELD(fuse_init_in, major);
	FIELD(fuse_init_in, minor);
	FIELD(fuse_init_in, max_readahead);
	FIELD(fuse_init_in, flags);
	FIELD(fuse_init_in, flags2);
	FIELD(fuse_init_in, unused);

	STRUCT(fuse_init_out);
	FIELD(fuse_init_out, major);
	FIELD(fuse_init_out, minor);
	FIELD(fuse_init_out, max_readahead);
	FIELD(fuse_init_out, flags);
	FIELD(fuse_init_out, max_background);
	FIELD(fuse_init_out, congestion_threshold);
	FIELD(fuse_init_out, max_write);
	FIELD(fuse_init_out, time_gran);
	FIELD(fuse_init_out, max_pages);
	FIELD(fuse_init_out, map_alignment);
	FIELD(fuse_init_out, flags2);
#if FUSE_KERNEL_MINOR_VERSION >= 40
	FIELD(fuse_init_out, max_stack_depth);
#endif
#if FUSE_KERNEL_MINOR_VERSION >= 43
	FIELD(fuse_init_out, request_timeout);
	FIELD(fuse_init_out, unused); /* 16-bit since 7.43 */
#endif

	STRUCT(cuse_init_in);
	FIELD(cuse_init_in, major);
	FIELD(cuse_init_in, minor);
	FIELD(cuse_init_in, unused);
	FIELD(cuse_init_in, flags);

	STRUCT(cuse_init_out);
	FIELD(cuse_init_out, major);
	FIELD(cuse_init_out, minor);
	FIELD(cuse_init_out, unused);
	FIELD(cuse_init_out, flags);
	FIELD(cuse_init_out, max_read);
	FIELD(cuse_init_out, max_write);
	FIELD(cuse_init_out, dev_major);
	FIELD(cuse_init_out, dev_minor);
	FIELD(cuse_init_out, spare);

	STRUCT(fuse_attr);
	FIELD(fuse_attr, ino);
	FIELD(fuse_attr, size);
	FIELD(fuse_attr, blocks);
	FIELD(fuse_attr, atime);
	FIELD(fuse_attr, mtime);
	FIELD(fuse_attr, ctime);
	FIELD(fuse_attr, atimensec);
	FIELD(fuse_attr, mtimensec);
	FIELD(fuse_attr, ctimensec);
	FIELD(fuse_attr, mode);
	FIELD(fuse_attr, nlink);
	FIELD(fuse_attr, uid);
	FIELD(fuse_attr, gid);
	FIELD(fuse_attr, rdev);
	FIELD(fuse_attr, blksize);
	FIELD(fuse_attr, flags);

	STRUCT(fuse_entry_out);
	FIELD(fuse_entry_out, nodeid);
	FIELD(fuse_entry_out, generation);
	FIELD(fuse_entry_out, entry_valid);
	FIELD(fuse_entry_out, attr_valid);
	FIELD(fuse_entry_out, entry_valid_nsec);
	FIELD(fuse_entry_out, attr_valid_nsec);
	FIELD(fuse_entry_out, attr);

	STRUCT(fuse_attr_out);
	FIELD(fuse_attr_out, attr_valid);
	FIELD(fuse_attr_out, attr_valid_nsec);
	FIELD(fuse_attr_out, dummy);
	FIELD(fuse_attr_out, attr);

	STRUCT(fuse_open_in);
	FIELD(fuse_open_in, flags);
	FIELD(fuse_open_in, open_flags);

	STRUCT(fuse_open_out);
	FIELD(fuse_open_out, fh);
	FIELD(fuse_open_out, open_flags);
#if FUSE_KERNEL_MINOR_VERSION >= 40
	FIELD(fuse_open_out, backing_id); /* "padding" before 7.40 */
#endif

	STRUCT(fuse_release_in);
	FIELD(fuse_release_in, fh);
	FIELD(fuse_release_in, flags);
	FIELD(fuse_release_in, release_flags);
	FIELD(fuse_release_in, lock_owner);

	STRUCT(fuse_flush_in);
	FIELD(fuse_flush_in, fh);
	FIELD(fuse_flush_in, unused);
	FIELD(fuse_flush_in, padding);
	FIELD(fuse_flush_in, lock_owner);

	STRUCT(fuse_read_in);
	FIELD(fuse_read_in, fh);
	FIELD(fuse_read_in, offset);
	FIELD(fuse_read_in, size);
	FIELD(fuse_read_in, read_flags);
	FIELD(fuse_read_in, lock_owner);
	FIELD(fuse_read_in, flags);
	FIELD(fuse_read_in, padding);

	STRUCT(fuse_write_in);
	FIELD(fuse_write_in, fh);
	FIELD(fuse_write_in, offset);
	FIELD(fuse_write_in, size);
	FIELD(fuse_write_in, write_flags);
	FIELD(fuse_write_in, lock_owner);
	FIELD(fuse_write_in, flags);
	FIELD(fuse_write_in, padding);

	STRUCT(fuse_write_out);
	FIELD(fuse_write_out, size);
	FIELD(fuse_write_out, padding);

	STRUCT(fuse_fsync_in);
	FIELD(fuse_fsync_in, fh);
	FIELD(fuse_fsync_in, fsync_flags);
	FIELD(fuse_fsync_in, padding);

	STRUCT(fuse_ioctl_in);
	FIELD(fuse_ioctl_in, fh);
	FIELD(fuse_ioctl_in, flags);
	FIELD(fuse_ioctl_in, cmd);
	FIELD(fuse_ioctl_in, arg);
	FIELD(fuse_ioctl_in, in_size);
	FIELD(fuse_ioctl_in, out_size);

	STRUCT(fuse_ioctl_out);
	FIELD(fuse_ioctl_out, result);
	FIELD(fuse_ioctl_out, flags);
	FIELD(fuse_ioctl_out, in_iovs);
	FIELD(fuse_ioctl_out, out_iovs);

	STRUCT(fuse_ioctl_iovec);
	FIELD(fuse_ioctl_iovec, base);
	FIELD(fuse_ioctl_iovec, len);

	STRUCT(fuse_dirent);
	FIELD(fuse_dirent, ino);
	FIELD(fuse_dirent, off);
	FIELD(fuse_dirent, namelen);
	FIELD(fuse_dirent, type);

	STRUCT(fuse_poll_in);
	FIELD(fuse_poll_in, fh);
	FIELD(fuse_poll_in, kh);
	FIELD(fuse_poll_in, flags);
	FIELD(fuse_poll_in, events);

	STRUCT(fuse_poll_out);
	FIELD(fuse_poll_out, revents);
	FIELD(fuse_poll_out, padding);

	STRUCT(fuse_interrupt_in);
	FIELD(fuse_interrupt_in, unique);

	STRUCT(fuse_notify_poll_wakeup_out);
	FIELD(fuse_notify_poll_wakeup_out, kh);

	CONSTANT(FUSE_KERNEL_VERSION);
	CONSTANT(FUSE_ROOT_ID);
	CONSTANT(FOPEN_DIRECT_IO);
	CONSTANT(FOPEN_NONSEEKABLE);
	CONSTANT(FOPEN_STREAM);
	CONSTANT(FOPEN_NOFLUSH);
	CONSTANT(FUSE_IOCTL_COMPAT);
	CONSTANT(FUSE_IOCTL_UNRESTRICTED);
	CONSTANT(FUSE_IOCTL_RETRY);
	CONSTANT(FUSE_IOCTL_32BIT);
	CONSTANT(FUSE_IOCTL_DIR);
	CONSTANT(CUSE_UNRESTRICTED_IOCTL);
	CONSTANT(FUSE_POLL_SCHEDULE_NOTIFY);
	CONSTANT(FUSE_NOTIFY_POLL);
	CONSTANT(DT_DIR);
	CONSTANT(DT_REG);

	OPCODE(FUSE_LOOKUP);
	OPCODE(FUSE_FORGET);
	OPCODE(FUSE_GETATTR);
	OPCODE(FUSE_SETATTR);
	OPCODE(FUSE_READLINK);
	OPCODE(FUSE_SYMLINK);
	OPCODE(FUSE_MKNOD);
	OPCODE(FUSE_MKDIR);
	OPCODE(FUSE_UNLINK);
	OPCODE(FUSE_RMDIR);
	OPCODE(FUSE_RENAME);
	OPCODE(FUSE_LINK);
	OPCODE(FUSE_OPEN);
	OPCODE(FUSE_READ);
	OPCODE(FUSE_WRITE);
	OPCODE(FUSE_STATFS);
	OPCODE(FUSE_RELEASE);
	OPCODE(FUSE_FSYNC);
	OPCODE(FUSE_SETXATTR);
	OPCODE(FUSE_GETXATTR);
	OPCODE(FUSE_LISTXATTR);
	OPCODE(FUSE_REMOVEXATTR);
	OPCODE(FUSE_FLUSH);
	OPCODE(FUSE_INIT);
	OPCODE(FUSE_OPENDIR);
	OPCODE(FUSE_READDIR);
	OPCODE(FUSE_RELEASEDIR);
	OPCODE(FUSE_FSYNCDIR);
	OPCODE(FUSE_GETLK);
	OPCODE(FUSE_SETLK);
	OPCODE(FUSE_SETLKW);
	OPCODE(FUSE_ACCESS);
	OPCODE(FUSE_CREATE);
	OPCODE(FUSE_INTERRUPT);
	OPCODE(FUSE_BMAP);
	OPCODE(FUSE_DESTROY);
	OPCODE(FUSE_IOCTL);
	OPCODE(FUSE_POLL);
	OPCODE(FUSE_NOTIFY_REPLY);
	OPCODE(FUSE_BATCH_FORGET);
	OPCODE(FUSE_FALLOCATE);
	OPCODE(FUSE_READDIRPLUS);
	OPCODE(FUSE_RENAME2);
	OPCODE(FUSE_LSEEK);
	OPCODE(FUSE_COPY_FILE_RANGE);
	OPCODE(FUSE_SETUPMAPPING);
	OPCODE(FUSE_REMOVEMAPPING);
	OPCODE(FUSE_SYNCFS);
	OPCODE(FUSE_TMPFILE);
#if FUSE_KERNEL_MINOR_VERSION >= 39
	OPCODE(FUSE_STATX);
#endif
	OPCODE(CUSE_INIT);
	return 0;
}
