package app

import (
	"time"

	"github.com/podium-live/podium/internal/live"
)

func liveRetention(unpublished, published time.Duration) live.Retention {
	return live.Retention{Unpublished: unpublished, Published: published}
}
