package queue

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Evidence is a file kept with a task: a screenshot of the app's user
// page, an exported PDF. Data is empty when only the description was read.
type Evidence struct {
	ID     int64
	TaskID int64
	Name   string
	Type   string // the media type it is served as
	Size   int64
	SHA256 string // hex, so that an auditor can check a copy
	By     string
	At     time.Time
	Data   []byte
}

// ErrNoEvidence means no such file on that task.
var ErrNoEvidence = errors.New("no such evidence file")

// AddEvidence keeps e's file with task e.TaskID and records it in the
// audit trail; it fills in the id, size, hash, By and At.
func (q Queue) AddEvidence(ctx context.Context, e *Evidence, actor string) error {
	t, err := q.Task(ctx, e.TaskID)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(e.Data)
	e.Size, e.SHA256, e.By, e.At = int64(len(e.Data)), hex.EncodeToString(sum[:]), actor, q.now()
	res, err := q.sql.Exec(ctx, `INSERT INTO adapter_evidence(task_id, name, type, size, sha256, data, by, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.TaskID, e.Name, e.Type, e.Size, e.SHA256, e.Data, actor, formatTime(e.At))
	if err != nil {
		return fmt.Errorf("keep evidence of task %d: %w", e.TaskID, err)
	}
	if e.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("keep evidence of task %d: %w", e.TaskID, err)
	}
	reason := fmt.Sprintf("evidence file %q (%d bytes, sha256 %s)", e.Name, e.Size, e.SHA256)
	return q.audit(ctx, actor, t.App, t.UserID, t.ID, "evidence", "", "", reason)
}

const evidenceColumns = `id, task_id, name, type, size, sha256, by, at`

func scanEvidence(sc interface{ Scan(...any) error }, data *[]byte) (Evidence, error) {
	var e Evidence
	var at sql.NullString
	dest := []any{&e.ID, &e.TaskID, &e.Name, &e.Type, &e.Size, &e.SHA256, &e.By, &at}
	if data != nil {
		dest = append(dest, data)
	}
	if err := sc.Scan(dest...); err != nil {
		return e, err
	}
	var err error
	e.At, err = parseTime(at)
	return e, err
}

// EvidenceOf lists the files kept with task taskID, oldest first, without
// their bytes.
func (q Queue) EvidenceOf(ctx context.Context, taskID int64) ([]Evidence, error) {
	rows, err := q.sql.Query(ctx, `SELECT `+evidenceColumns+` FROM adapter_evidence WHERE task_id = ? ORDER BY id`, taskID)
	if err != nil {
		return nil, fmt.Errorf("evidence of task %d: %w", taskID, err)
	}
	defer rows.Close()
	var out []Evidence
	for rows.Next() {
		e, err := scanEvidence(rows, nil)
		if err != nil {
			return nil, fmt.Errorf("evidence of task %d: %w", taskID, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// EvidenceFile reads file id of task taskID with its bytes, or
// ErrNoEvidence.
func (q Queue) EvidenceFile(ctx context.Context, taskID, id int64) (Evidence, error) {
	var data []byte
	row := q.sql.QueryRow(ctx, `SELECT `+evidenceColumns+`, data FROM adapter_evidence WHERE task_id = ? AND id = ?`, taskID, id)
	e, err := scanEvidence(row, &data)
	e.Data = data
	if errors.Is(err, sql.ErrNoRows) {
		return e, ErrNoEvidence
	}
	if err != nil {
		return e, fmt.Errorf("evidence %d of task %d: %w", id, taskID, err)
	}
	return e, nil
}
