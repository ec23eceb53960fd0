//! k-means over standardised points, made deterministic: the points come
//! sorted, the first centroid is the point nearest the mean, each next one
//! the point farthest from those chosen (ties to the earlier point), and
//! clusters are numbered by their centroids. Same data, same clusters.

/// Lloyd iterations before giving up on convergence (assignments that stop
/// changing end it much sooner on real data).
const MAX_ITERATIONS: usize = 100;

pub(crate) type Point = [f64; 3];

/// Each column shifted to mean 0 and scaled to standard deviation 1 (a
/// column that does not vary becomes all zeros), so no feature dominates
/// the distance because of its unit.
pub(crate) fn standardise(points: &[Point]) -> Vec<Point> {
    let n = points.len().max(1) as f64;
    let mut mean = [0.0; 3];
    let mut std = [0.0; 3];
    for d in 0..3 {
        mean[d] = points.iter().map(|p| p[d]).sum::<f64>() / n;
        std[d] = (points.iter().map(|p| (p[d] - mean[d]).powi(2)).sum::<f64>() / n).sqrt();
    }
    points
        .iter()
        .map(|p| {
            let mut z = [0.0; 3];
            for d in 0..3 {
                z[d] = if std[d] > 1e-12 {
                    (p[d] - mean[d]) / std[d]
                } else {
                    0.0
                };
            }
            z
        })
        .collect()
}

fn distance(a: &Point, b: &Point) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum()
}

/// Index of the nearest centroid (the first on a tie).
fn nearest(point: &Point, centroids: &[Point]) -> usize {
    let mut best = 0;
    for (i, c) in centroids.iter().enumerate() {
        if distance(point, c) < distance(point, &centroids[best]) {
            best = i;
        }
    }
    best
}

/// Maximin seeding: fewer than `k` centroids when there are fewer
/// distinct points.
fn initial_centroids(points: &[Point], k: usize) -> Vec<Point> {
    let Some(first) = points.first() else {
        return Vec::new();
    };
    let mut mean = [0.0; 3];
    for p in points {
        for d in 0..3 {
            mean[d] += p[d] / points.len() as f64;
        }
    }
    let mut centroids = vec![*first];
    for p in points {
        if distance(p, &mean) < distance(&centroids[0], &mean) {
            centroids[0] = *p;
        }
    }
    while centroids.len() < k {
        let gap = |p: &Point| distance(p, &centroids[nearest(p, &centroids)]);
        let mut farthest = &points[0];
        for p in points {
            if gap(p) > gap(farthest) {
                farthest = p;
            }
        }
        if gap(farthest) <= 1e-12 {
            break;
        }
        centroids.push(*farthest);
    }
    centroids
}

/// The clustering: each point's cluster (0-based, ordered by centroid so
/// cluster 0 has the lowest first coordinate) and the centroids.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Clustering {
    pub(crate) assignments: Vec<usize>,
    pub(crate) centroids: Vec<Point>,
}

/// Clusters `points` (in a fixed order; the caller sorts) into at most `k`
/// groups.
pub(crate) fn kmeans(points: &[Point], k: usize) -> Clustering {
    let mut centroids = initial_centroids(points, k.max(1));
    let mut assignments: Vec<usize> = points.iter().map(|p| nearest(p, &centroids)).collect();
    for _ in 0..MAX_ITERATIONS {
        for (c, centroid) in centroids.iter_mut().enumerate() {
            let members: Vec<&Point> = points
                .iter()
                .zip(&assignments)
                .filter(|(_, &a)| a == c)
                .map(|(p, _)| p)
                .collect();
            // An emptied cluster keeps its centroid.
            if !members.is_empty() {
                for d in 0..3 {
                    centroid[d] = members.iter().map(|p| p[d]).sum::<f64>() / members.len() as f64;
                }
            }
        }
        let next: Vec<usize> = points.iter().map(|p| nearest(p, &centroids)).collect();
        if next == assignments {
            break;
        }
        assignments = next;
    }
    // Drop emptied clusters, then number the rest by centroid.
    let mut used: Vec<usize> = (0..centroids.len())
        .filter(|c| assignments.contains(c))
        .collect();
    used.sort_by(|a, b| {
        centroids[*a]
            .partial_cmp(&centroids[*b])
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let renumber = |old: usize| used.iter().position(|&c| c == old).expect("a used cluster");
    Clustering {
        assignments: assignments.iter().map(|&a| renumber(a)).collect(),
        centroids: used.iter().map(|&c| centroids[c]).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three tight groups far apart, shuffled together.
    fn three_blobs() -> (Vec<Point>, Vec<usize>) {
        let centres = [[0.0, 0.0, 0.0], [10.0, 0.0, 5.0], [5.0, 10.0, -5.0]];
        let offsets = [
            [0.1, -0.2, 0.0],
            [-0.3, 0.1, 0.2],
            [0.2, 0.2, -0.1],
            [0.0, -0.1, 0.3],
        ];
        let mut points = Vec::new();
        let mut truth = Vec::new();
        for i in 0..12 {
            let group = (i * 7) % 3;
            let c = centres[group];
            let o = offsets[i % 4];
            points.push([c[0] + o[0], c[1] + o[1], c[2] + o[2]]);
            truth.push(group);
        }
        (points, truth)
    }

    #[test]
    fn finds_known_clusters() {
        let (points, truth) = three_blobs();
        let result = kmeans(&points, 3);
        assert_eq!(result.centroids.len(), 3);
        // Same group ⇔ same cluster, whatever the numbering.
        for i in 0..points.len() {
            for j in 0..points.len() {
                assert_eq!(
                    truth[i] == truth[j],
                    result.assignments[i] == result.assignments[j],
                    "points {i} and {j}"
                );
            }
        }
        // Numbered by centroid: the blob at x=0 sorts before x=5,
        // which sorts before x=10.
        let cluster_of =
            |group: usize| result.assignments[truth.iter().position(|&g| g == group).unwrap()];
        assert_eq!([cluster_of(0), cluster_of(2), cluster_of(1)], [0, 1, 2]);
    }

    #[test]
    fn same_data_same_clusters() {
        let (points, _) = three_blobs();
        assert_eq!(kmeans(&points, 3), kmeans(&points, 3));
        assert_eq!(kmeans(&points, 2), kmeans(&points, 2));
    }

    #[test]
    fn fewer_distinct_points_than_k() {
        let points = vec![[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [2.0, 2.0, 2.0]];
        let result = kmeans(&points, 5);
        assert_eq!(result.centroids.len(), 2);
        assert_eq!(result.assignments, vec![0, 0, 1]);
        assert_eq!(kmeans(&[], 3).assignments, Vec::<usize>::new());
    }

    #[test]
    fn k_of_one_puts_everything_together() {
        let (points, _) = three_blobs();
        let result = kmeans(&points, 1);
        assert!(result.assignments.iter().all(|&a| a == 0));
    }

    #[test]
    fn standardising_gives_mean_zero_and_unit_spread() {
        let points = vec![[1.0, 100.0, 5.0], [3.0, 300.0, 5.0], [5.0, 200.0, 5.0]];
        let z = standardise(&points);
        for d in 0..2 {
            let mean: f64 = z.iter().map(|p| p[d]).sum::<f64>() / 3.0;
            let var: f64 = z.iter().map(|p| p[d].powi(2)).sum::<f64>() / 3.0;
            assert!(mean.abs() < 1e-9 && (var - 1.0).abs() < 1e-9, "column {d}");
        }
        assert!(z.iter().all(|p| p[2] == 0.0), "a constant column is zeros");
    }
}
