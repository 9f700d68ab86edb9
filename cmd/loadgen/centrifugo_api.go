package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// cfAPI is the coordinator's client of Centrifugo's server HTTP API: POST
// {base}/{method} with the JSON parameters and the key in X-API-Key; the
// answer is {"result":…} or {"error":{"code":…,"message":…}}. The load
// generator uses it as an application backend would: to publish, and to
// read the channel's presence_stats.
type cfAPI struct {
	base, key string
}

// call runs one API method and decodes its result into out (if not nil).
func (a cfAPI) call(ctx context.Context, method string, params, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	body, err := json.Marshal(params)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+"/"+method, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("centrifugo API %s: %w", method, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", a.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("centrifugo API %s: %w", method, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("centrifugo API %s: %w", method, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("centrifugo API %s: %s: %s", method, resp.Status, truncate(raw, 200))
	}
	var r struct {
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("centrifugo API %s: answer is not JSON: %w", method, err)
	}
	if r.Error != nil {
		return fmt.Errorf("centrifugo API %s: error %d: %s", method, r.Error.Code, r.Error.Message)
	}
	if out != nil && len(r.Result) > 0 {
		if err := json.Unmarshal(r.Result, out); err != nil {
			return fmt.Errorf("centrifugo API %s: result: %w", method, err)
		}
	}
	return nil
}

// publish sends one publication {"step":step} to channel.
func (a cfAPI) publish(ctx context.Context, channel string, step int64) error {
	return a.call(ctx, "publish", map[string]any{"channel": channel, "data": map[string]int64{"step": step}}, nil)
}

// presenceStats is the number of clients in channel's presence.
func (a cfAPI) presenceStats(ctx context.Context, channel string) (int, error) {
	var r struct {
		NumClients int `json:"num_clients"`
	}
	err := a.call(ctx, "presence_stats", map[string]string{"channel": channel}, &r)
	return r.NumClients, err
}
