package xmlrpc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
)

// Call sends one XML-RPC call to url and returns the decoded result, or a *Fault when the
// server answered with one. A nil client means http.DefaultClient. It is for Go clients
// of the API and for tests.
func Call(ctx context.Context, client *http.Client, url, method string, params ...any) (any, error) {
	var body bytes.Buffer
	if err := EncodeCall(&body, method, params); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, &body)
	if err != nil {
		return nil, fmt.Errorf("xmlrpc: unable to build request for %s: %w", method, err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("xmlrpc: unable to call %s: %w", method, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("xmlrpc: %s answered HTTP %s: %s", method, resp.Status, bytes.TrimSpace(snippet))
	}
	result, err := DecodeResponse(resp.Body, DefaultLimits)
	if err != nil {
		if _, isFault := err.(*Fault); isFault {
			return nil, err
		}
		return nil, fmt.Errorf("xmlrpc: bad response to %s: %w", method, err)
	}
	return result, nil
}
