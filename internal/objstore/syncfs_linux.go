package objstore

// haveSyncFS: PutBatch syncs the file system once (syncfs(2), vfs.FS's
// SyncFS) instead of each object.
const haveSyncFS = true
