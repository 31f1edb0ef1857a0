package lake

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/iceberg-go/table"
)

// Check asks the catalog whether the load's namespace exists, which a
// catalog that is reachable with these credentials answers; nothing is
// created (the first commit creates the namespace).
func (c *Committer) Check(ctx context.Context) (namespaceExists bool, err error) {
	ns := table.Identifier(c.cfg.Namespace)
	ok, err := c.cfg.Catalog.CheckNamespaceExists(ctx, ns)
	if err != nil {
		return false, fmt.Errorf("checking namespace %s: %w", strings.Join(ns, "."), err)
	}
	return ok, nil
}
